"""Every learner-facing sentence of coursekit.gradcheck, in one place for translation."""

from coursekit.i18n import N_

FLOAT32 = N_("{what} is float32. Central differences in float32 are accurate to about 1e-3 at best "
             "(rounding error ~ eps32/h with eps32 = 1.2e-7), too coarse to check a gradient; "
             "the check converts to float64. Compute in float64 to check it.")
PASSED = N_("{name}: gradient check passed ({checked} of {size} elements checked, {evaluations} evaluations).")
FAILED = N_("{name}: gradient check FAILED ({bad} of {checked} checked elements wrong).")
SHAPE = N_("{name}: your gradient has shape {got}, but {name} has shape {expected}; they must match exactly.")
SHAPE_TRANSPOSED = N_(" It has the transposed shape: a missing transpose?")
NOT_FINITE = N_("{name}: your gradient contains NaN or infinity at {index}.")
FORWARD_SHAPE_CHANGED = N_("forward gave an output of shape {got} where it gave one of shape {expected} before, for an "
                           "input of the same shape: a layer's output must keep its shape")
MUTATED = N_("{what} was changed in place by your code; it must not write into its arguments (work on a copy).")
FAILED_READING = N_("{name}: gradient check FAILED: {bad} of {checked} elements are wrong")
FAILED_READING_ONE = N_("{name}: gradient check FAILED: {bad} of {checked} elements is wrong")
FAILED_ALL = N_("{name}: gradient check FAILED: all {bad} elements are wrong")
READING = N_("{verdict}{where}.")  # a failed check's line: the verdict, then where the wrong elements are
CHECKED_OF = N_("{checked} checked (of {size})")
EXACTLY_WHERE = N_(", exactly those where {region}")
ALL_WHERE = N_(", all where {region}")
OPPOSITE_SIGNS = N_("{a} and {b} have opposite signs")
SAME_SIGN = N_("{a} and {b} have the same sign")
MASK_FROM = N_("Your gradient is 0 where {mine}, the true one where {truth}: it looks like the mask is built from "
               "{used} instead of {meant}.")
MASK_TURNED = N_("Your gradient is 0 where {mine}, the true one where {truth}: it looks like the mask is the wrong "
                 "way round.")
MASK_MISSING = N_("The true gradient is 0 where {truth} and yours is not: it looks like a mask is missing.")
ZERO_WHERE = N_("Your gradient is 0 where {mine} and the true one is not: it looks like a mask that should not be "
                "there.")
DOUT_IGNORED = N_("Your gradient is {value} at each of them whatever dout is there: it looks like dout is not "
                  "multiplied in.")
COLUMNS = (N_("element"), N_("analytic"), N_("numerical"), N_("ratio"), N_("rel. error"))
NO_RATIO = N_("—")
SHOWN = N_("(the {shown} largest of {bad} wrong elements are shown)")
KINK_ONE = N_("{index}: kink crossed (left slope {left:.6g}, right slope {right:.6g}); your {analytic:.6g} lies "
              "between them, accepted.")
KINKS = N_("{count} elements with a kink crossed ({indices}){where}: the slope jumps there, and your values lie "
           "between the left and right slopes, accepted.")
KINK_WHERE = N_(", all where {region}")
DIAG_ZERO = N_("Diagnosis: your gradient is zero where it should not be: a missing term?")
DIAG_ZERO_WHERE = N_("Diagnosis: your gradient is zero wherever the true one is not: a missing term, "
                     "or a mask that is the wrong way round?")
DIAG_SIGN = N_("Diagnosis: your gradient has the opposite sign everywhere: a sign error?")
DIAG_FACTOR_EXTRA = N_("Diagnosis: your gradient is {factor} times the true one everywhere: an extra factor of "
                       "{amount}?")
DIAG_FACTOR_MISSING = N_("Diagnosis: your gradient is {factor} times the true one everywhere: a missing factor of "
                         "{amount}?")
DIAG_FACTOR_SIGN_EXTRA = N_("Diagnosis: your gradient is {factor} times the true one everywhere: a sign flip and an "
                            "extra factor of {amount}?")
DIAG_FACTOR_SIGN_MISSING = N_("Diagnosis: your gradient is {factor} times the true one everywhere: a sign flip and a "
                              "missing factor of {amount}?")
DIAG_AXIS = N_(" {amount} is the length of axis {axis} of the input: a sum where the lesson takes the mean "
               "(or the other way round)?")
DIAG_TRANSPOSE = N_("Diagnosis: your gradient equals the transpose of the true one: a missing transpose?")
DIAG_BIAS = N_("Diagnosis: only the bias gradient is wrong: summing over the wrong axis (or not summing over the "
               "batch)? db must add up dout over the examples (axis 0).")
DIRECTIONAL_OK = N_("{name}: directional check passed ({directions} random directions, {evaluations} evaluations; "
                    "a full check would take {full}).")
JOINT_OK = N_("{name}: passed with the input and every parameter checked together along {directions} random "
              "directions ({evaluations} evaluations).")
DIRECTIONAL_FAILED = N_("{name}: gradient check FAILED along {bad} of {directions} random directions "
                        "(along the first: analytic {analytic:.6g}, numerical {numerical:.6g}).")
LOCATED = N_("Bisection located {found} wrong element(s) with {evaluations} evaluations in all "
             "(a full check would take {full}):")
NOT_LOCATED = N_("Bisection found no single wrong element ({evaluations} evaluations): the error is spread thinly "
                 "over many elements. Run check_gradient_sampled to see some of them.")
RETURNED_NONE = N_("{name}: your gradient is None: did you forget to return it?")
GRAD_MISSING = N_("grads has no entry {key!r}: backward must fill grads with the same keys as params.")
SYMBOLIC_OK = N_("d/d{var} of {expr} is {claimed}: confirmed by SymPy.")
SYMBOLIC_BAD = N_("d/d{var} of {expr} is not {claimed}: SymPy's derivative takes other values.")
SYMBOLIC_AT = N_("  at {var} = {point}: the derivative is {truth}, yours gives {claimed}")
SYMBOLIC_BAD_REVEALED = N_("d/d{var} of {expr} is {truth}, not {claimed} (they differ by {difference}).")
JVP_SHAPES = N_("the function gave results of two shapes, {up} and {down}, at two points a small step apart: its "
                "result must keep its shape")
NOT_SCALAR = N_("the function being checked must return one number (a scalar loss), but it returned shape {shape}.")
F_MUTATED = N_("the function being checked changed its argument in place; it must not write into its input.")
STACK_BETWEEN = N_("Diagnosis: the gradients of layer {ok} are right and those of layer {bad} are wrong: the "
                   "mistake is in the backward of layer {bad}, or of a layer above it up to layer {ok} (the dx it "
                   "passes down).")
STACK_TOP = N_("Diagnosis: the gradients are wrong from the last layer with parameters (layer {bad}) down: start with "
               "the backward of layer {bad} and of the layers after it.")
LAYER_PASSED = N_("Layer check passed: all {count} gradients ({names}) agree with central differences.")
LAYER_FAILED = N_("Layer check FAILED: {names}.")
LAYER_NOTES_ONLY = N_("the gradients agree, but backward broke a rule (below)")
# What a float32 warning names (FLOAT32's {what}).
THE_VALUE = N_("the value")
GRADIENT_OF = N_("the gradient of {name}")
OUTPUT_OF_FORWARD = N_("the output of forward")
