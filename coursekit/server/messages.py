"""Every sentence the course server shows a learner or an instructor, in one place for translation."""

# -- signing in
TITLE = "Course server"
LOGIN_HEADING = "Sign in"
LOGIN_INTRO = "Paste the token your course gave you."
TOKEN_LABEL = "Token"
LOGIN_BUTTON = "Sign in"
LOGOUT_BUTTON = "Sign out"
BAD_TOKEN = "That token is not one this course issued (or it was replaced by a newer one)."
TOO_MANY_LOGINS = "Too many sign-in attempts from here: wait a minute and try again."
SIGNED_IN_AS = "Signed in as {who}"
INSTRUCTOR = "the instructor"

# -- a learner's pages
MY_HEADING = "Your submissions"
UPLOAD_HEADING = "Submit a notebook"
UPLOAD_INTRO = ("Choose the lesson and your exercise notebook (.ipynb, or the .submission.zip that coursekit.submit() "
                "writes). You can also submit from JupyterLab: run `coursekit login {url}` once, then "
                "coursekit.submit() in the notebook.")
LESSON_LABEL = "Lesson"
FILE_LABEL = "Notebook"
UPLOAD_BUTTON = "Submit"
NO_SUBMISSIONS = "Nothing submitted yet."
COLUMNS = ("submitted (UTC)", "lesson", "state", "score", "")
LATE = "late"
DEADLINE = "deadline {when} (UTC)"
OPEN = "open"
STATES = {"queued": "waiting to be graded", "grading": "being graded", "graded": "graded", "rejected": "not graded"}
WAITING = "Waiting to be graded ({ahead} ahead in the queue). This page refreshes by itself."
REJECTED = "This upload could not be graded: {reason}"
SUBMISSION_HEADING = "{lesson}, submitted {when} (UTC)"
SCORE = "{points:g} / {max_points:g} points"
FEEDBACK = "feedback"

# -- refusals (pages and API)
NOT_SIGNED_IN = "Sign in first."
NOT_YOURS = "There is no such submission among yours."
INSTRUCTOR_ONLY = "Only the instructor may see this page."
BAD_CSRF = "This form is out of date (or came from another site): go back, reload the page and send it again."
TOO_LARGE = "The upload is larger than {limit} MiB: a notebook is far smaller; clear its outputs and try again."
NO_FILE = "Choose a notebook file to submit."
UNKNOWN_LESSON = "There is no lesson {lesson!r} in this course; the lessons are: {lessons}."
RATE_LIMITED = "You submitted {count} times in the last minute: wait {seconds} s before the next submission."
EMPTY_UPLOAD = "The upload is empty."
API_TOKEN = "Send your token as 'Authorization: Bearer TOKEN' (see `coursekit login`)."
QUEUED = "Received; it is queued for grading."

# -- the instructor's dashboard
DASHBOARD_HEADING = "The class"
QUEUE_STATE = "Queue: {queued} waiting, {grading} being graded, {done} graded since the server started keeping them."
CLASS_TABLE_HEADING = "Latest score per student and lesson"
STUDENT_COLUMN = "student"
NOT_SUBMITTED = "-"
PASS_RATES_HEADING = "Pass rate per exercise (latest submissions)"
PASS_RATE_COLUMNS = ("lesson", "exercise", "passed", "of", "rate")
DISTRIBUTION_HEADING = "Score distribution (latest submission per student and lesson, % of the points)"
DISTRIBUTION_LABEL = "{low}-{high}%: {count}"
MISTAKES_HEADING = "The mistakes the class made (registered mistakes recognised in the latest submissions)"
MISTAKE_LINE = "{share:.0%} {mistake}"
MISTAKE_COLUMNS = ("exercise", "mistake", "students", "share of those graded")
NO_MISTAKES = "No registered mistake recognised yet."
IDENTICAL_HEADING = ("Identical notebooks from different students (the untouched exercise notebook is one; a copy "
                     "is another)")
NO_IDENTICAL = "None."
EXPORT_CSV = "Download the gradebook (CSV)"
STUDENT_HEADING = "{student}: every submission"
MISTAKE_HEADING = "{lesson} {grade_id}: {mistake}"
REGRADE_BUTTON = "Grade again"
REGRADE_QUEUED = "Queued for grading again."
NOT_ON_ROSTER = "(not on the roster)"
