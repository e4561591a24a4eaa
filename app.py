"""Tally's Chalice app: routes and handlers registered here, everything else in chalicelib."""
from chalice import Chalice

from chalicelib.api import auth, polls, public, results, votes
from chalicelib.events import tally

app = Chalice(app_name="tally")
app.api.cors = True
auth.install(app)
app.register_blueprint(public.bp)
app.register_blueprint(polls.bp)
app.register_blueprint(votes.bp)
app.register_blueprint(results.bp)
app.register_blueprint(tally.bp)
