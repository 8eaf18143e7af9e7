"""Every learner-facing sentence of coursekit.gradcheck, in one place for translation."""

FLOAT32 = ("{what} is float32. Central differences in float32 are accurate to about 1e-3 at best "
           "(rounding error ~ eps32/h with eps32 = 1.2e-7), too coarse to check a gradient; "
           "the check converts to float64. Compute in float64 to check it.")
PASSED = "{name}: gradient check passed ({checked} of {size} elements checked, {evaluations} evaluations)."
FAILED = "{name}: gradient check FAILED ({bad} of {checked} checked elements wrong)."
SHAPE = "{name}: your gradient has shape {got}, but {name} has shape {expected}; they must match exactly."
SHAPE_TRANSPOSED = " It has the transposed shape: a missing transpose?"
NOT_FINITE = "{name}: your gradient contains NaN or infinity at {index}."
MUTATED = "{what} was changed in place by your code; it must not write into its arguments (work on a copy)."
FAILED_READING = "{name}: gradient check FAILED: {bad} of {checked} elements {verb} wrong"
FAILED_ALL = "{name}: gradient check FAILED: all {bad} elements are wrong"
CHECKED_OF = "{checked} checked (of {size})"
EXACTLY_WHERE = ", exactly those where {region}"
ALL_WHERE = ", all where {region}"
OPPOSITE_SIGNS = "{a} and {b} have opposite signs"
SAME_SIGN = "{a} and {b} have the same sign"
MASK_FROM = ("Your gradient is 0 where {mine}, the true one where {truth}: it looks like the mask is built from "
             "{used} instead of {meant}.")
MASK_TURNED = ("Your gradient is 0 where {mine}, the true one where {truth}: it looks like the mask is the wrong "
               "way round.")
MASK_MISSING = "The true gradient is 0 where {truth} and yours is not: it looks like a mask is missing."
ZERO_WHERE = "Your gradient is 0 where {mine} and the true one is not: it looks like a mask that should not be there."
DOUT_IGNORED = ("Your gradient is {value} at each of them whatever dout is there: it looks like dout is not "
                "multiplied in.")
COLUMNS = ("element", "analytic", "numerical", "ratio", "rel. error")
NO_RATIO = "—"
SHOWN = "(the {shown} largest of {bad} wrong elements are shown)"
KINK_ONE = ("{index}: kink crossed (left slope {left:.6g}, right slope {right:.6g}); your {analytic:.6g} lies "
            "between them, accepted.")
KINKS = ("{count} elements with a kink crossed ({indices}){where}: the slope jumps there, and your values lie "
         "between the left and right slopes, accepted.")
KINK_WHERE = ", all where {region}"
DIAG_ZERO = "Diagnosis: your gradient is zero where it should not be: a missing term?"
DIAG_ZERO_WHERE = ("Diagnosis: your gradient is zero wherever the true one is not: a missing term, "
                   "or a mask that is the wrong way round?")
DIAG_SIGN = "Diagnosis: your gradient has the opposite sign everywhere: a sign error?"
DIAG_FACTOR = "Diagnosis: your gradient is {factor} times the true one everywhere: {kind} factor of {amount}?"
DIAG_AXIS = (" {amount} is the length of axis {axis} of the input: a sum where the lesson takes the mean "
             "(or the other way round)?")
DIAG_TRANSPOSE = "Diagnosis: your gradient equals the transpose of the true one: a missing transpose?"
DIAG_BIAS = ("Diagnosis: only the bias gradient is wrong: summing over the wrong axis (or not summing over the "
             "batch)? db must add up dout over the examples (axis 0).")
DIRECTIONAL_OK = ("{name}: directional check passed ({directions} random directions, {evaluations} evaluations; "
                  "a full check would take {full}).")
JOINT_OK = ("{name}: passed with the input and every parameter checked together along {directions} random "
            "directions ({evaluations} evaluations).")
DIRECTIONAL_FAILED = ("{name}: gradient check FAILED along {bad} of {directions} random directions "
                      "(along the first: analytic {analytic:.6g}, numerical {numerical:.6g}).")
LOCATED = ("Bisection located {found} wrong element(s) with {evaluations} evaluations in all "
           "(a full check would take {full}):")
NOT_LOCATED = ("Bisection found no single wrong element ({evaluations} evaluations): the error is spread thinly "
               "over many elements. Run check_gradient_sampled to see some of them.")
RETURNED_NONE = "{name}: your gradient is None: did you forget to return it?"
GRAD_MISSING = "grads has no entry {key!r}: backward must fill grads with the same keys as params."
SYMBOLIC_OK = "d/d{var} of {expr} is {claimed}: confirmed by SymPy."
SYMBOLIC_BAD = "d/d{var} of {expr} is not {claimed}: SymPy's derivative takes other values."
SYMBOLIC_AT = "  at {var} = {point}: the derivative is {truth}, yours gives {claimed}"
SYMBOLIC_BAD_REVEALED = "d/d{var} of {expr} is {truth}, not {claimed} (they differ by {difference})."
NOT_SCALAR = "the function being checked must return one number (a scalar loss), but it returned shape {shape}."
F_MUTATED = "the function being checked changed its argument in place; it must not write into its input."
STACK_BETWEEN = ("Diagnosis: the gradients of layer {ok} are right and those of layer {bad} are wrong: the mistake is "
                 "in the backward of layer {bad}, or of a layer above it up to layer {ok} (the dx it passes down).")
STACK_TOP = ("Diagnosis: the gradients are wrong from the last layer with parameters (layer {bad}) down: start with "
             "the backward of layer {bad} and of the layers after it.")
LAYER_PASSED = "Layer check passed: all {count} gradients ({names}) agree with central differences."
LAYER_FAILED = "Layer check FAILED: {names}."
LAYER_NOTES_ONLY = "the gradients agree, but backward broke a rule (below)"
