"""Marks a view carries for the middleware to read (api/auth.py, api/errors.py, api/requests.py): attributes of
the view function, which functools.wraps carries over to any wrapper put around it."""
from typing import Any, Callable, TypeVar

View = TypeVar("View", bound=Callable[..., Any])


def mark(view: View, **marks: object) -> View:
    vars(view).update(marks)
    return view
