"""Every limit of the grader, in one place (the README quotes their figures).

Any input may be hostile, and so may the code in it. The first section bounds what reading an input
can cost, before any student code runs (an input past a cap is recorded as rejected, with the cap in
its reason; the course's largest master, outputs included, is 120 kB). The second bounds what the
student's code may use in its sandbox, the third what it may send back, the fourth its time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursekit.grading.master import Master

MiB = 1024 * 1024

# A notebook, as a file or as a zip member once inflated.
MAX_NOTEBOOK_BYTES = 16 * MiB
# Any one zip member once inflated: a notebook, or a submission file inside a platform's export.
MAX_MEMBER_BYTES = 16 * MiB
# A submission's manifest.json (lesson, student, time, hash, version: a few hundred bytes).
MAX_MANIFEST_BYTES = 64 * 1024
# A zip file on disk. It is read member by member, never whole, so this bounds time rather than memory.
MAX_ZIP_FILE_BYTES = 4 * 1024 * MiB
# Everything inflated from one zip, its members summed (a class's export: 1,000 notebooks of 1 MiB).
MAX_ZIP_TOTAL_BYTES = 1024 * MiB
# Inflated size over compressed size, for a member that inflates past MIN_RATIO_CHECKED_BYTES: notebooks
# compress 3 to 10 times; deflate reaches 1,032 on zeros, which is what a zip bomb is made of.
MAX_COMPRESSION_RATIO = 100
MIN_RATIO_CHECKED_BYTES = 1 * MiB
# Members of one zip, counted from its central directory before Python reads it (each costs memory to list).
MAX_ZIP_MEMBERS = 10_000
# Bytes of a zip's central directory: a generous 512 per member (46 fixed, the name, extra fields).
MAX_CENTRAL_DIRECTORY_BYTES = 512 * MAX_ZIP_MEMBERS
# Lists and objects nested in one JSON document (the course's notebooks nest 7; Python's json recurses once a level).
MAX_JSON_DEPTH = 64
# Strings, lists and objects in one JSON document: each costs 50 to 70 bytes of memory once parsed, however
# short its text (`{},` is 3 bytes), so this, not the file's size, bounds the memory a parsed notebook takes.
MAX_JSON_VALUES = 1_000_000
# Cells in a notebook (a lesson has under 100; nbformat takes a third of a millisecond to convert a version-3 one).
MAX_CELLS = 2_000
# Characters of a submission's cells that the grader parses, in all, to name what a cell with a problem defines (an
# honest notebook's problem cells hold a few thousand; 60 cells of 200,000 once took minutes).
MAX_PARSED_PER_SUBMISSION = 250_000
# Bytes of submissions a batch holds to grade at once: past them, what it has read is graded before it reads on (a
# few zips of a thousand 1 MiB notebooks each held 3 GB before anything was graded).
MAX_BATCH_BYTES = 256 * MiB


# ---------------------------------------------------------------- what a worker may use (rlimits)
@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox worker."""

    cpu_seconds: int = 60  # in all: a last stop for a worker whose grader stopped watching
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 16
    open_files: int = 64


OUTPUT_LIMIT = 20_000  # characters of a cell's stdout and stderr kept

# ---------------------------------------------------------------- what the sandbox may send back
MAX_MESSAGE = 64 * MiB  # bytes of one message: a larger one is refused, not read
MAX_DEPTH = 32  # nesting of the data in a message
# Strings, lists and objects in one message, counted before it is parsed when it is larger than a few kilobytes: each
# costs 50-70 bytes parsed, so a 60 MB reply of 20 million empty lists took a grading process to 1.8 GB.
MAX_MESSAGE_VALUES, COUNTED_FROM_BYTES = 100_000, 64 * 1024
# Characters of one string in the values it sends (a student's function may answer a 30 MB string, and the grader's
# probes and messages copied it hundreds of times: 17 GB); of an exception's message kept; of a test's message (the
# longest a lesson's check writes, a layer's gradient report with its diagnosis, has 2,558).
MAX_TEXT, MAX_ERROR_TEXT, MAX_VERDICT_TEXT = 10_000, 2_000, 5_000
MAX_CALLS = 64  # calls in one batched request (a gradient check's evaluations)
MAX_WARNINGS = 20  # warnings of the student's code shown on the grader's output, per worker (one wrote 910: 1.5 MB)
MAX_CHAIN = 100_000  # operations of one REPEAT request (a graph deeper than Python's recursion limit has 1,500)
MAX_CHAIN_STEPS = 8  # operations repeated by one REPEAT request (lesson 02's chains repeat one or two)
READ_AFTER_ELEMENTS = 4_096  # array elements of a layer's grads sent with its backward's answer (protocol.READS_AFTER)
# Quiet requests kept to go in one write (see Session.post): few enough to fit a socket's buffer whatever the worker
# is doing meanwhile.
POSTED_AT_ONCE, POSTED_BYTES = 256, 64 * 1024
# A SymPy expression, so that nothing the grader does with it (simplify, diff, lambdify) can run away: integers of
# at most a million, numeric exponents of at most 64 whose product along any path stays at most 1,024
# (x**64**64 would expand to a polynomial of degree 4,096), at most 2,000 nodes in 100,000 characters.
SYMPY_MAX_TEXT, SYMPY_MAX_NODES, SYMPY_MAX_INTEGER = 100_000, 2_000, 10**6
SYMPY_MAX_EXPONENT, SYMPY_MAX_DEGREE = 64, 1_024
SYMPY_MAX_TERMS = 10_000  # terms of a power of a sum, expanded ((x**2 + 1)**3 has 4; a lesson's, at most a few dozen)
# One Max or Min: its arguments, nested ones of its kind counted as SymPy flattens them, and the nodes under it. SymPy
# compares its arguments pairwise as it builds one: 200 real symbols took 35 s (25: 0.45 s), and 8 sums of 240 terms
# 18 s. A lesson's (a ReLU, Max(0, x)) has 2 arguments and 3 nodes.
SYMPY_MAX_EXTREMA_ARGS, SYMPY_MAX_EXTREMA_NODES = 4, 24
# SymPy texts whose expressions a process keeps, once built, and the longest kept: a lesson's are under 150 characters,
# and 40 nodes of a kept text's expression make it a few kilobytes at most.
SYMPY_PARSED_KEPT, SYMPY_PARSED_TEXT = 512, 400
# A Float's value and precision: a double's range, and at most 1,024 bits (SymPy writes a double's as 53) or digits.
SYMPY_MAX_FLOAT_BITS = 1_024

# ---------------------------------------------------------------- time
# CPU seconds a student cell may use: 20 times the heaviest cell the grader runs of the course's masters (at most
# 5 ms in a warm worker). A cell that runs past it is run again a statement at a time, all of it kept but what
# runs past its limit again; its definitions (functions, classes, constants) get DEFINITIONS_TIMEOUT, and its imports
# IMPORT_TIMEOUT: a module the sandbox has not loaded takes 0.2 s (`import sympy` on a fast machine) to 0.6 s (on a
# slow one), and a learner's library more. A looping cell costs a batch its limit: 0.5 s was a quarter of a lesson-07
# batch's CPU.
DEFAULT_CELL_TIMEOUT = 0.1
DEFINITIONS_TIMEOUT = 0.5
IMPORT_TIMEOUT = 2.0
DEFAULT_BUDGET = 30.0  # wall-clock seconds for grading one submission; an honest one takes 0.03-0.5 s
# A request's CPU budget is what it may compute; its wall-clock deadline, only a backstop for code that sleeps or
# waits, is generous, because waiting for a core while other submissions compute must not cost a student.
WALL_FACTOR, WALL_GRACE = 4.0, 2.0
READY_TIMEOUT = 60.0  # seconds for a sandbox server or worker to start
SLOW = 0.1  # seconds of waiting after which a worker is moved to the lowest priority
POLL = 0.05  # seconds between two looks at a busy worker's CPU time
INTERRUPT_GRACE = 0.2  # seconds a cell stopped at its limit has to say where it was (see Session.stop)
IDLE = 600.0  # seconds without a grader after which a shared server stops


def wall_backstop(cpu_seconds: float, grace: float = WALL_GRACE) -> float:
    """The wall-clock seconds a request with ``cpu_seconds`` of CPU budget may take at most."""
    return WALL_FACTOR * cpu_seconds + grace


@dataclass(frozen=True)
class Settings:
    """Limits: CPU seconds for a cell, a call and a test, and wall-clock seconds for the whole submission.

    CPU time is what the student's code costs, so waiting for a core while other submissions compute
    never counts against it; each request also has a wall-clock backstop (see wall_backstop) for code
    that sleeps. ``cell_timeout`` and ``budget`` None mean the master's own (its metadata
    ``coursekit.cell_timeout`` and ``coursekit.submission_budget``, set by a lesson whose cells do real
    work, such as training a network) or the defaults. Every student cell is run, and a looping one costs
    its whole limit, so a short limit is what keeps a batch fast; a cell that ran past it is run again a
    statement at a time, its definitions with ``definitions_timeout`` and its imports with ``import_timeout`` (each
    at least the cell limit).
    """

    cell_timeout: float | None = None
    definitions_timeout: float = DEFINITIONS_TIMEOUT
    import_timeout: float = IMPORT_TIMEOUT
    call_timeout: float = 3.0
    test_timeout: float = 15.0
    budget: float | None = None
    wall_grace: float = WALL_GRACE  # wall-clock seconds a request may take beyond four times its CPU budget

    def for_master(self, master: Master) -> Settings:
        """These settings with the cell limit and the budget resolved for ``master``."""
        cell_timeout = self.cell_timeout or master.cell_timeout or DEFAULT_CELL_TIMEOUT
        return replace(self, cell_timeout=cell_timeout, definitions_timeout=max(self.definitions_timeout, cell_timeout),
                       import_timeout=max(self.import_timeout, cell_timeout),
                       budget=self.budget or master.budget or DEFAULT_BUDGET)
