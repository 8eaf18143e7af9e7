"""Every sentence the grader writes into a report, in one place for translation."""

from coursekit.i18n import N_

NOT_DEFINED = N_("`{name}` is not defined")
TIMEOUT = N_("stopped after {seconds:g} s of computing (an infinite loop, or code far too slow)")
WALL_TIMEOUT = N_("stopped after waiting {seconds:g} s for an answer (code that sleeps, waits or loops)")
DEADLINE_PASSED = N_("not run: the time for this test, or for the whole submission, had run out")
OUT_OF_BUDGET = N_("not run: the submission used up its time budget of {seconds:g} s")
UNSENDABLE = N_("a value too large, or nested too deeply, to send")
PROTOCOL_ERROR = N_("your code sent the grader something it cannot read ({problem}); it was stopped")
NOT_PLAIN_DATA = N_("your code gave a {kind} where a plain value (a number, an array, a tuple of those) is "
                  "needed; return plain values")
CHANGED_ARGUMENT = N_("{what} changed its argument {position} in place; leave the caller's data as it is and "
                    "return new values")
RESHAPED_ARGUMENT = N_("{what} changed the shape of its argument {position} in place (x.shape = ..., x.resize): "
                      "the caller's array is no longer the one it passed; leave it as it was")
HIDDEN_RAISED = N_("a hidden case raised {kind}")
WITHHELD = N_("{name} is coursekit's own answer to this lesson's exercises: the grader does not let a submission use "
              "it. Write your own")
GRADER_BUDGET = N_("stopped: checking what your code returned took the grader past its time limit (an expression "
                   "far too large to compare, for example)")
# A hidden case's problems in fixed words: nothing the student's code chose (a class's name, a message it sent, how
# long it took) may carry a hidden input out in them.
HIDDEN_NOT_PLAIN_DATA = N_("in a hidden case your code gave an object where a plain value (a number, an array, a "
                           "tuple of those) is needed; return plain values")
HIDDEN_CHANGED_ARGUMENT = N_("in a hidden case your code changed an argument in place; leave the caller's data as "
                             "it is and return new values")
HIDDEN_TIMEOUT = N_("a hidden case was stopped at its time limit (an infinite loop, code far too slow, or code that "
                    "waits)")
HIDDEN_PROTOCOL_ERROR = N_("in a hidden case your code sent the grader something it cannot read; it was stopped")
OWN_EXCEPTION = N_("an exception of your own")
AT_LINE = N_(" (at: {line})")
WORKER_NOT_STARTED = N_("the worker did not start: {error}")
WORKER_GONE = N_("the worker is no longer running")
MALFORMED_ANSWER = N_("malformed answer")  # completes NOT_PLAIN_DATA's "your code gave a ..."
CRASHED = N_("the student's code ended its own process (os._exit, a signal, or a resource limit)")
PASSED = N_("passed")
HIDDEN_FAILED = N_("a hidden test failed")
HIDDEN_FAILED_AT = N_("a hidden test failed: {error}")
NOT_ATTEMPTED = N_("not attempted")
ERROR = N_("your code raised {error}")
NOT_DEFINED_BECAUSE = N_("`{name}` is not defined: the cell that defines it {cause}")
CELL = N_("cell {cell}: {cause}")
# A test's status (verdicts.STATUSES) as the learner reads it.
STATUS_NAMES = {"passed": PASSED, "failed": N_("failed"), "not attempted": NOT_ATTEMPTED, "error": N_("error"),
                "timeout": N_("timeout"), "crashed": N_("crashed")}
# What happened to a cell of the student's: each completes "the cell ..." (see verdicts.CellProblem).
CELL_TIMEOUT = N_("ran past its {seconds:g} s CPU limit")
# A cell run again a statement at a time (student_code.StudentCode._run_apart): why, then what was kept.
CELL_RUN_APART = N_("{cause}: it was run again one statement at a time")
CELL_REFUSED_RUN_APART = N_("{raised}: the grader runs your code without writing files or starting threads or "
                            "processes, so the cell was run again one statement at a time")
ALL_KEPT = N_("{why}, and all of it was kept")
ALL_KEPT_BUT = N_("{why}, and all of it was kept but `{line}`, which {what}")
ALL_KEPT_BUT_SOME = N_("{why}, and all of it was kept but {count} statements, the first `{line}`, which {what}")
LEFT_OUT_SLOW, LEFT_OUT_FAILED = N_("ran past its limit"), N_("raised or crashed")
CELL_WAITED = N_("was {problem}")  # a SandboxTimeout's own words: "stopped after waiting 2.1 s for an answer (...)"
CELL_STOPPED_BY_BUDGET = N_("was stopped: the submission used up its time budget of {seconds:g} s")
CELL_NOT_RUN = N_("was not run: the submission used up its time budget of {seconds:g} s")
CELL_CRASHED = N_("ended its own process (os._exit, a signal, or a resource limit)")
CELL_NOT_ATTEMPTED = N_("is not done yet (it raised NotImplementedError)")
CELL_RAISED = N_("raised {error}")
CELL_RAISED_AT = N_("raised {error} (at: {line})")
CELL_REPLAYED = N_("{cause} when it was run again (your code had been stopped, so your cells were run anew)")
UNKNOWN_LESSON = N_("no master in solutions/ matches this submission (lesson {lesson!r})")
CELLS_OF_ANOTHER_LESSON = N_("handed in as {claimed}, but its cells are those of {found} (their grade_ids): graded "
                             "as neither; hand in the notebook of {claimed}, or this one as {found}")
# Why a submission has no grade though it was read: the grader itself failed on it (a batch, the course server).
GRADER_FAILED = N_("the grader failed on it: {error}")
NOT_A_SUBMISSION = N_("not a submission: {reason}")
# Why the intake will not say whose an input is, or when it was handed in (the instructor reads these in the gradebook).
# Who names the student (see intake.owner): each completes TWO_STUDENTS's "{first} names ...".
BY_FOLDER = N_("its student folder")
BY_FILE_NAME = N_("its file name")
BY_MANIFEST = N_("its manifest")
BY_ZIP_NAME = N_("the name of the zip it is in")
# After TWO_STUDENTS, for a member of a zip found in a folder given, which is one student's (see intake._read_zip_file).
GIVE_A_ZIP_OF_MANY = N_(" (a zip found in a folder given is one student's, named by its file name; a zip of many "
                        "students' files, as a platform exports it, is graded when given itself: coursekit grade "
                        "export.zip)")
TWO_STUDENTS = N_("{first} names the student {one} and {second} names {other}: it is graded as neither")
NO_STUDENT = N_("a submission file that names no student: it has no manifest that names one, and its name, {name}, "
                "holds no id (07_efficiency--ada.submission.zip would)")
NAMED_AFTER_LESSON = N_("nothing names the student of {name}: a notebook named after its lesson holds no id (a "
                       "student's own folder, given alone, names nobody). Name it {lesson}--ID.ipynb, or give the "
                       "folder that holds one folder per student")
NO_TIME_ZONE = N_("its manifest's submitted_at, {time}, has no time zone: a time is written with its offset from UTC, "
                  "as coursekit submit writes it (2025-01-02T03:04:05+00:00)")
IN_THE_FUTURE = N_("its manifest's submitted_at, {time}, is more than a day after the grader's clock ({now}): a time "
                   "not yet come cannot be the time it was handed in")
