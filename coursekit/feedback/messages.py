"""Every learner-facing sentence of coursekit.feedback, in one place for translation."""

from coursekit.i18n import N_

PASSED = N_("{name}: passed ({cases} cases).")
PASSED_ALL = N_("{name}: passed (all cases).")
NOT_ATTEMPTED = N_("{name}: not attempted yet: replace `raise NotImplementedError()` with your code.")
BORROWED = N_("{name}: this is {library}, coursekit's own answer to the exercise: the grader gives it no points. "
              "Write your own.")
BUILT_ON = N_("{name}: it builds on {library}, coursekit's own answer to the exercise, which the grader does not let "
              "a submission import: there it gives this no points. Write your own.")
ERROR = N_("{name}: your code raised {error} on case {case}.")
ERROR_LINE = N_("The line that raised, in your code: {line}")
FAILED = N_("{name}: failed on case {case}.")
WRONG_SHAPE = N_("Your result has shape {got}; expected shape {expected}.")
WRONG_TYPE = N_("Your result is a {got}; expected a {expected}.")
WRONG_LENGTH = N_("Your result has {got} parts; expected {expected}.")
OR = N_(" or ")  # between the names of the types a result may have: "tuple or list"
DICT_WITH_KEYS = N_("dict with keys {keys}")
NUMBER_OR_ARRAY = N_("number or array")
NOT_FINITE = N_("Your result contains NaN or infinity at {where}; every value should be finite.")
MISMATCH = N_("Mismatch at {where}: expected {expected}, got {got} (abs. difference {diff:.3g}, tolerance {tol:.3g}).")
MISMATCH_VALUE = N_("Mismatch at {where}: expected {expected}, got {got}.")
MISMATCH_ARRAY = N_("Mismatch at {where}: {count} of {size} elements differ.\n{shown}{more}\n"
                    "Largest absolute difference: {max_abs:.3g} at {at_abs}; largest relative difference: "
                    "{max_rel:.3g} at {at_rel}.")
MISMATCH_ELEMENT = N_("  {where}: expected {expected}, got {got}")
MISMATCH_MORE = N_("\n  ... and {count} more")
MUTATED = N_("Your code changed its input argument {index} in place; work on a copy instead.")
ROUNDED_ONLY = N_("It differs only by rounding: x + h - 2h + h is not always x in floating point, so keep each value "
                  "you move and put that value back.")
LIKELY_MISTAKE = N_("Likely mistake: {hint}")
TEST_FAILED = N_("{name}: failed: {message}")
NO_HINTS = N_("No hints are registered for '{name}'.")
HINT = N_("Hint {tier}/{tiers} for '{name}': {hint}")
STOPPED = N_("The check of {name} did not pass ({status}): its verdict is above, and the cell stops here.")
PROGRESS = N_("{title}: {passed} of {total} exercises passed in this session.")
PROGRESS_COLUMNS = (N_("exercise"), N_("state"), N_("hints seen"))
HINTS_SEEN = N_("{seen} of {total}")
# A verdict's state (coursekit.feedback.STATES) as the learner reads it.
STATE_NAMES = {"passed": N_("passed"), "failed": N_("failed"), "not attempted": N_("not attempted"),
               "error": N_("error"), "not checked yet": N_("not checked yet")}
UNKNOWN_EXERCISE = N_("There is no exercise named '{name}'. Known exercises: {known}.")
THE_TEST = N_("(the exercise's own test)")

# Generic diagnoses (coursekit.feedback.relations): each names a relation between the learner's result and the
# expected one, and its likely cause. They complete "Looks like {what}."
LOOKS_LIKE = N_("Looks like {what}.")
YOUR_RESULT = N_("your result")
RESULT = N_("result")
YOURS = N_("your {what}")  # a part of the learner's result (its label follows "your")
EXPECTED = N_("the expected {what}")
NUMBER = N_("number {index}")  # an argument without a name
ARGUMENT_IGNORED = N_("Looks like your function ignores its argument `{name}`: changing it does not change your "
                      "result.")
AT_WRONG_POINT = N_("{what}")
SIBLING = N_("{where} holds the value of {sibling}")
REVERSED = N_("your parts are in reverse order (last layer first?)")
ONE_OFF = N_("your parts are shifted by one: each holds its neighbour's value (one layer off?)")
EVERY_PART = N_("every part that differs is off the same way: {what}")
TRANSPOSED = N_("{where} is the transpose of the expected one (a missing or extra .T?)")
KEEPDIMS = N_("{where} has the right values in shape {got} instead of {expected}: an extra or missing axis of "
              "length 1 (keepdims?)")
NOT_SUMMED = N_("{where} was not summed over axis {axis}: its sum over that axis is the expected result")
AND_MEAN = N_(" (with a mean where a sum is meant)")
WRONG_AXIS = N_("{where} was summed over the wrong axis: it has the right total but one entry per element of "
                "another axis")
SUMMED_ALL = N_("{where} is the sum of every element where an array was expected")
AVERAGED_ALL = N_("{where} is the mean of every element where an array was expected")
FLOAT32 = N_("{where} was computed in {dtype}: right to about 7 digits only. Keep float64 (no .astype(np.float32))")
ZEROS = N_("{where} is all zeros: a term, a seed gradient or the incoming gradient is missing")
FACTOR = N_("{where} is {what}")
NEGATED = N_("negated: the sign is flipped")
AND = N_(", and ")
FACTOR_N = N_("N = {n} times the expected value: a sum over the batch where the mean is meant")
FACTOR_ONE_OVER_N = N_("1/N = 1/{n} of the expected value: divided by the batch size N once too often")
FACTOR_2 = N_("twice the expected value: a factor 2 too many")
FACTOR_HALF = N_("half the expected value: a factor 2 (or 1/2) missing")
FACTOR_OTHER = N_("{c:.4g} times the expected value: a constant factor is wrong")
RETURNED_INPUT = N_("{where} is argument {index} itself, unchanged: the computation on it is missing")
SOME_ZERO = N_("{where} is 0 in {count} of its {size} elements where it should not be: a contribution is missing there")
SOME_FACTOR = N_("{where} is off in {count} of its {size} elements, each by the same factor: {what}")
SQUARED = N_("{where} is the square of the expected value (a square root missing, or a norm squared?)")
SQUARE_ROOT = N_("{where} is the square root of the expected value (a square missing?)")
COMPOUNDED = N_(" (compounded where several such steps follow one another)")
