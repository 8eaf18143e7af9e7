"""Every sentence the course server shows a learner or an instructor, in one place for translation.

Each is a catalogue message (``N_``, see ``coursekit.i18n``), translated when a page or an answer uses it: in the
language of the request (``language``: the switch's cookie, else ``Accept-Language``).
"""

from coursekit.i18n import N_

# -- signing in
TITLE = N_("Course server")
LOGIN_HEADING = N_("Sign in")
LOGIN_INTRO = N_("Paste the token your course gave you.")
TOKEN_LABEL = N_("Token")
LOGIN_BUTTON = N_("Sign in")
LOGOUT_BUTTON = N_("Sign out")
BAD_TOKEN = N_("That token is not one this course issued (or it was replaced by a newer one).")
TOO_MANY_LOGINS = N_("Too many sign-in attempts from here: wait a minute and try again.")
SIGNED_IN_AS = N_("Signed in as {who}")
INSTRUCTOR = N_("the instructor")
LANGUAGE_SWITCH = N_("Language")  # the label of the links to the other languages, on every page

# -- a learner's pages
MY_HEADING = N_("Your submissions")
UPLOAD_HEADING = N_("Submit a notebook")
UPLOAD_INTRO = N_("Choose the lesson and your exercise notebook (.ipynb, or the .submission.zip that "
                  "coursekit.submit() writes). You can also submit from JupyterLab: run `coursekit login {url}` once, "
                  "then coursekit.submit() in the notebook.")
LESSON_LABEL = N_("Lesson")
FILE_LABEL = N_("Notebook")
UPLOAD_BUTTON = N_("Submit")
NO_SUBMISSIONS = N_("Nothing submitted yet.")
COLUMNS = (N_("submitted (UTC)"), N_("lesson"), N_("state"), N_("score"))  # then the feedback's link
LATE = N_("late")
DEADLINE = N_("deadline {when} (UTC)")
OPEN = N_("open")
STATES = {"queued": N_("waiting to be graded"), "grading": N_("being graded"), "graded": N_("graded"),
          "rejected": N_("not graded")}
WAITING = N_("Waiting to be graded ({ahead} ahead in the queue). This page refreshes by itself.")
REJECTED = N_("This upload could not be graded: {reason}")
SUBMISSION_HEADING = N_("{lesson}, submitted {when} (UTC)")
SCORE = N_("{points:g} / {max_points:g} points")
FEEDBACK = N_("feedback")
# Why an upload was not graded (recorded by the grading worker, in the upload's language).
GAVE_UP = N_("grading it stopped the grader {attempts} times; it was not graded again (ask the instructor)")

# -- refusals (pages and API)
NOT_SIGNED_IN = N_("Sign in first.")
NOT_YOURS = N_("There is no such submission among yours.")
INSTRUCTOR_ONLY = N_("Only the instructor may see this page.")
BAD_CSRF = N_("This form is out of date (or came from another site): go back, reload the page and send it again.")
TOO_LARGE = N_("The upload is larger than {limit} MiB: a notebook is far smaller; clear its outputs and try again.")
TOO_SLOW = N_("The upload did not arrive in time: try again on a steadier connection.")
TOO_MANY_WAITING = N_("You have {count} uploads waiting to be graded: submit again once some of them are.")
NO_FILE = N_("Choose a notebook file to submit.")
UNKNOWN_LESSON = N_("There is no lesson {lesson!r} in this course; the lessons are: {lessons}.")
RATE_LIMITED = N_("You submitted {count} times in the last minute: wait {seconds} s before the next submission.")
BYTES_LIMITED = N_("Your uploads of the last 24 hours add up to {limit} MiB, as much as the server keeps for one "
                   "student: try again in {hours} h, or ask the instructor.")
UPLOAD_IN_FLIGHT = N_("Your previous uploads are still arriving: wait until they are received, then send this one.")
EMPTY_UPLOAD = N_("The upload is empty.")
API_TOKEN = N_("Send your token as 'Authorization: Bearer TOKEN' (see `coursekit login`).")
QUEUED = N_("Received; it is queued for grading.")

# -- the instructor's dashboard
DASHBOARD_HEADING = N_("The class")
QUEUE_STATE = N_("Queue: {queued} waiting, {grading} being graded, {done} graded since the server started keeping "
                 "them.")
CLASS_TABLE_HEADING = N_("Latest score per student and lesson")
STUDENT_COLUMN = N_("student")
PASS_RATES_HEADING = N_("Pass rate per exercise (latest submissions)")
PASS_RATE_COLUMNS = (N_("lesson"), N_("exercise"), N_("passed"), N_("graded"), N_("rate"))
DISTRIBUTION_HEADING = N_("Score distribution (latest submission per student and lesson, in percent of the points)")
DISTRIBUTION_LABEL = N_("{low}-{high}%: {count}")
MISTAKES_HEADING = N_("The mistakes the class made (registered mistakes recognised in the latest submissions)")
MISTAKE_LINE = N_("{share:.0%} {mistake}")
MISTAKE_COLUMNS = (N_("exercise"), N_("mistake"), N_("students"), N_("share of those graded"))
NO_MISTAKES = N_("No registered mistake recognised yet.")
IDENTICAL_HEADING = N_("Identical notebooks from different students (the untouched exercise notebook is one; a copy "
                       "is another)")
NO_IDENTICAL = N_("None.")
EXPORT_CSV = N_("Download the gradebook (CSV)")
STUDENT_HEADING = N_("{student}: every submission")
NEWEST_SHOWN = N_("The newest {shown:,} of {total:,} submissions are shown.")
MISTAKE_HEADING = N_("{lesson} {grade_id}: {mistake}")
REGRADE_BUTTON = N_("Grade again")
REGRADE_QUEUED = N_("Queued for grading again.")
NOT_ON_ROSTER = N_("(not on the roster)")

# -- the command line: `coursekit serve` and `coursekit roster` (in the language of the instructor's terminal)
SERVING = N_("course server for {root} at {url} (gradebook {gradebook}, {workers} grading processes{cluster}"
             "{recovered})")
SERVING_ON_CLUSTER = N_(" on the Dask cluster at {address}")
SERVING_RECOVERED = N_(", {count} uploads put back in the queue")
ALREADY_SERVING = N_("another course server is running on {gradebook} (one server per gradebook)")
NEEDS_CLUSTER_EXTRA = N_("grading on a Dask cluster needs the `distributed` package ({missing}): "
                         "pip install 'coursekit[cluster]'")
TOKENS_WRITTEN = N_("{count} tokens written to {file} (readable by you only): send each student their line. Only "
                    "hashes are kept: this file is the only copy.")
NO_NEW_STUDENTS = N_("no new students: no token issued (--reissue makes new ones for everyone)")
NOT_IMPORTED = N_("{file}: {problem} (nothing was imported)")
TOKENS_NOT_WRITTEN = N_("{file} cannot be written ({problem}): nothing was imported")
INSTRUCTOR_TOKEN = N_("instructor token: {token}")
ROSTER_TOO_LARGE = N_("the roster is larger than {limit} MiB")
ROSTER_NOT_TEXT = N_("the roster is not UTF-8 text ({error})")
ROSTER_EMPTY = N_("the roster is empty: it needs a header row id,name,email and a row per student")
ROSTER_NO_COLUMN = N_("line 1: the header has no {column} column (it should read id,name,email)")
ROSTER_SHORT_ROW = N_("line {line}: {count} fields, fewer than the header's")
ROSTER_BAD_ID = N_("line {line}: {problem}")
ROSTER_TWICE = N_("line {line}: the id {student!r} is on line {first} already")
ROSTER_UNKNOWN = N_("{student!r} is not on the roster")
