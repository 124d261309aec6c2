"""The one error hierarchy of the service, rendered as problem+json in one place (app.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DispatchError(Exception):
    """Base of every error a client may see. Subclasses fix status and title."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def to_problem(self) -> dict:
        body = {"type": f"/problems/{self.slug}", "title": self.title,
                "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body


class MalformedJSON(DispatchError):
    title, slug = "Malformed JSON", "malformed-json"


class ValidationFailed(DispatchError):
    status, title, slug = 422, "Invalid input", "validation"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[FieldError(field, message)])


class Unauthorized(DispatchError):
    status, title, slug = 401, "Not authenticated", "unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DispatchError):
    status, title, slug = 403, "Forbidden", "forbidden"


class CsrfRefused(Forbidden):
    """A page session's request without the CSRF token of that session (a stale page
    after a key change can fetch a fresh one: GET /session/csrf)."""
    title, slug = "Missing or wrong CSRF token", "csrf"


class NotFound(DispatchError):
    status, title, slug = 404, "Not found", "not-found"


class NoRoadGraph(NotFound):
    """The service routes without a road graph (DISPATCH112_ROUTER is not osm:PATH):
    there are no roads to draw nor drive along; the pages then do without them."""
    title, slug = "No road graph loaded", "no-road-graph"


class MethodNotAllowed(DispatchError):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(DispatchError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    title, slug = "Step does not follow from the current state", "invalid-transition"


class CallAlreadyTaken(Conflict):
    """Another operator took the call first; the problem names who (`taken_by`)."""

    title, slug = "Call already taken", "call-taken"

    def __init__(self, detail: str, *, taken_by: str | None) -> None:
        super().__init__(detail)
        self.taken_by = taken_by

    def to_problem(self) -> dict:
        return {**super().to_problem(), "taken_by": self.taken_by}


class TeamNotFree(Conflict):
    title, slug = "Team is not free", "team-not-free"


class ClientGone(DispatchError):
    """The client went away before its request was read whole (a phone losing signal
    mid-upload): nothing was done, and nobody is left to read the answer."""
    title, slug = "Request incomplete", "client-gone"


class PayloadTooLarge(DispatchError):
    status, title, slug = 413, "Body too large", "payload-too-large"


class UnsupportedMediaType(DispatchError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class TooManyRequests(DispatchError):
    status, title, slug = 429, "Too many attempts", "too-many-requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class ServiceUnavailable(DispatchError):
    """The database cannot be reached right now (refused, lost mid-query, shutting down,
    or no pooled connection free in time). Safe to retry after `Retry-After` seconds:
    every write that matters is idempotent (Idempotency-Key, client_id)."""

    status, title, slug = 503, "Service unavailable", "unavailable"

    def __init__(self, detail: str = "the database is unavailable; try again shortly",
                 retry_after_s: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class WorkerBusy(ServiceUnavailable):
    """The planner's worker has as many runs waiting as it keeps: try again after
    `Retry-After` seconds (nothing was started)."""

    title, slug = "Planner busy", "planner-busy"
