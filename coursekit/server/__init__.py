"""The class's course server (``coursekit serve``): learners submit, a background worker grades, the instructor looks.

One module per role:

- ``config``      the server's settings (options or a TOML file), deadlines per lesson
- ``tokens``      the roster and its tokens (stored hashed), the instructor's token
- ``queue``       the persistent queue of uploads, in the gradebook: enqueue, claim, mark done exactly once
- ``worker``      the background grader: claims queued uploads and grades them with ``batch.Grader``
- ``supervisor``  the process that keeps the grading workers running, and puts back what a dead one held
- ``cluster_grading`` grading a worker's uploads on a Dask cluster instead (``serve --cluster``)
- ``auth``        who is asking: sessions, CSRF tokens, per-student rate limits
- ``guards``      what every request gets: a cap on its body, security headers
- ``language``    the language a request is answered in (the switch's cookie, else Accept-Language)
- ``views``       the data the pages show, read from the gradebook (a learner's own, the class's)
- ``charts``      the score distribution and the mistakes, as SVG drawn from numbers
- ``learner``     the learner's pages and the API that ``coursekit.submit()`` calls
- ``instructor``  the dashboard: class table, pass rates, mistakes, a student's history, regrade, CSV
- ``app``         the Starlette application that puts them together
- ``run``         ``coursekit serve``: one server per gradebook, its workers, uvicorn
- ``messages``    every sentence a person reads, in one place for translation

Grading never happens inside a request: an upload is a row of the queue, written in one transaction,
and the request returns at once.
"""
