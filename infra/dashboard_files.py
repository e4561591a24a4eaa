"""What of dashboard/ is published: the pages and their assets, not package.json, node_modules/ or the build
script. A deploy uploads these (infra/publish_dashboard.py) and the local static server serves only these
(devstack/static_server.py), so local and deployed pages are the same set."""
PUBLISHED_FILES = {"/index.html", "/vote.html", "/icon.svg"}
PUBLISHED_DIRS = ("/css/", "/js/", "/vendor/")
