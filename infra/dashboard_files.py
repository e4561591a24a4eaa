"""What of dashboard/ is published: the pages and their assets, not package.json, node_modules/ or the build
script. A deploy uploads these (infra/publish_dashboard.py) and the local static server serves only these
(devstack/static_server.py), so local and deployed pages are the same set."""
PUBLISHED_FILES = {"/index.html", "/vote.html", "/screen.html", "/icon.svg"}
PUBLISHED_DIRS = ("/css/", "/js/", "/vendor/")
# The pages another site may show in a frame: the audience screen, which shows only what the public document
# does, and is made for projectors, TV graphics and embeds. The dashboard and the vote page can never be framed
# (a framed one-tap vote could be clickjacked). Locally the static server sends their policies; on AWS the
# distribution's behaviour for these paths does (infra/dashboard.json, parameter ScreenFrameAncestors).
FRAMEABLE_FILES = {"/screen.html"}
