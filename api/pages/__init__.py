"""Server-rendered pages: the consumer's privacy centre at `/` (and, on this base, other actors' pages).

How to add a page
-----------------
1. One module per page group (``api/pages/profile.py``, ``api/pages/console.py`` ...), each with its own
   ``router = page_router()`` from :mod:`api.pages.routing`. Every route on it is a :class:`PageRoute`: a
   POST on it checks the CSRF token before the handler runs (no opt-out), and its errors render as HTML.
2. Handlers stay thin: parse, call the same service function the JSON API calls, then either
   ``render(request, "group/page.html", {...})`` or, after a write,
   ``redirect(request, "/path", notice="key")`` (Post/Redirect/Get; the notice key must be in
   :data:`api.pages.rendering.NOTICES`, so no text from the query string is ever shown).
3. Forms: every ``<form method="post">`` includes ``{{ csrf_field() }}``. Validate form input with a
   pydantic model through :func:`api.pages.forms.parse_form`; on failure re-render the same template with
   status 422 and ``errors`` (field name -> message), shown next to the field by the ``field()`` macro in
   ``_forms.html``. A caught domain error: keep only its record (``api.deps.keep_only_the_record``).
4. Authentication: take ``consumer: PageConsumer`` (from :mod:`api.pages.auth`); a visitor without a live
   session cookie is sent to the login page and back. Load objects for that caller only (the services
   do: "for this customer or 404"). Another actor gets its own dependency and cookie in its own module.
5. Templates extend ``base.html`` (override ``block nav`` and ``block account`` for another actor) and
   live under ``api/pages/templates/<group>/``; no inline ``<script>`` or ``style=`` (the
   Content-Security-Policy forbids both), no third-party URL. Static files go in ``api/pages/static/``.
6. Add the module to the tuple in :func:`api.pages.routing.install` (its order is the matching order).
   The security tests in ``tests/pages/test_security.py`` then walk its routes by themselves.
"""
