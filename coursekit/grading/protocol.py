"""The names of the sandbox protocol, shared by both ends: the grader's requests, the worker's answers.

Every message is a JSON object (coursekit.grading.wire frames it). A request names its operation in
OP; the worker answers with VALUE, or RAISED (the student's exception, as data), and the keys its
operation adds. While answering, the worker may itself ask the grader to run a CALLBACK.
"""

# ---------------------------------------------------------------- request keys
OP = "op"
TARGET = "target"          # the handle of the object the operation acts on
NAME = "name"              # an attribute, method or student name
CODE = "code"              # a cell's source
ARGS, KWARGS = "args", "kwargs"
ERRSTATE = "errstate"      # the grader's NumPy error settings, applied around a call
KEY = "key"
OTHER = "other"            # the second operand of a forwarded arithmetic operation
CLASS = "cls"
CALLBACK_ID = "id"
REQUESTS = "requests"      # POSTED: the requests it carries, in order
RESULT_ID = "result"       # where a posted operation keeps its result: a handle the grader chose (< 0)

# ---------------------------------------------------------------- operations (grader -> worker)
RUN = "run"                # run a cell
GET = "get"                # a student name: VALUE, or MISSING
PING = "ping"              # collects the answers owed to posted requests
POSTED = "posted"          # REQUESTS run in order and answered only through the next request: on success nothing,
                           # on failure the first one's error (see Session.post)
CALL = "call"
CALLMETHOD = "callmethod"  # target.name(*args): one round trip instead of a getattr and a call
CALLMANY = "callmany"      # target.name(*args) for each args of CALLS, in one round trip: REPLIES, one per call
CALLS = "calls"
AS_COLLECTED = "as_collected"  # CALLMANY: every value read once every call is made, as a caller that collects the
                           # values first sees them (a value a later call changed shows the change, as in a kernel)
AGAIN = "again"            # SEQUENCE step [0, AGAIN, [k]]: what the request's step k gave, read again now
PERTURB_PARAMS = "perturb_params"  # SEQUENCE step [layer, PERTURB_PARAMS, []]: 1.5 x + 0.25 into each of its params
SETS = "sets"              # CALLMANY: before each call, [name, value] parameter writes on the target (WRITE_PARAM)
SEQUENCE = "sequence"      # each of STEPS in order, in one round trip: REPLIES, one per step (a property's calls)
STEPS = "steps"            # SEQUENCE: [target, name, args]: target.name(*args); target(*args) when name is "";
                           # the attribute target.name when args is null
GETATTR, SETATTR = "getattr", "setattr"
GETITEM, SETITEM = "getitem", "setitem"
BINOP, UNOP = "binop", "unop"
REPEAT = "repeat"          # posted: STEPS' arithmetic ([name, other]) on the result so far, in turn, COUNT times
COUNT = "count"            # over, from TARGET; the last result kept under RESULT_ID (1,500 operations, one message)
LEN, ITEMS = "len", "items"
ISINSTANCE = "isinstance"
WRITE_PARAM = "write_param"  # params[name][...] = value in a student layer (a gradient check's perturbation)
RELEASE = "release"        # posted: the grader holds the objects of HANDLES no more; the worker drops them too
HANDLES = "handles"
WITHHOLD = "withhold"      # before any student code: coursekit's answers to the lesson (NAMES) are not importable
NAMES = "names"            # WITHHOLD: "module:name" of each; its VALUE: the words of the ImportError they raise


# ---------------------------------------------------------------- worker -> grader
CALLBACK = "callback"                # the worker calls a grader function it was given
CALLBACK_RESULT = "callback_result"  # the grader's answer to it

# ---------------------------------------------------------------- answer keys
VALUE = "value"
RAISED = "raised"          # {"type", "message", "line"}
UNSENDABLE = "coursekit:unsendable"  # RAISED's type when the answer itself cannot be sent (too large, nested too
                                     # deeply): the grader says so in its own words, never "your code raised ..."
MISSING = "missing"        # GET of a name the student did not define
IS_METHOD = "method"       # GETATTR found a bound method of the target
CHANGED_ARGS = "changed_args"    # CALL: arguments the student's code changed in place, by position
REBOUND_KEYS = "rebound_keys"    # CALL: dict entries it replaced rather than changed
SYNCED_PARAMS = "synced_params"  # CALL: the parameters of grader models it was given, after the call
CHANGED_KWARGS = "changed_kwargs"  # CALL: keyword arguments the student's code changed in place, by name
WARNINGS = "warnings"
REPLIES = "replies"        # CALLMANY, SEQUENCE: what each call answered, as CALL (or GETATTR) would have
READ_AFTER = "read_after"  # CALLMETHOD: the attribute READS_AFTER names for the method, read right after the call

# What a test reads right after calling a method, by the course's conventions: a layer's backward fills its grads.
# The worker sends it with the call's answer, and the grader's next read of it (if nothing else reached the sandbox
# in between) needs no round trip.
READS_AFTER = {"backward": "grads"}
OK, ERROR, STDOUT = "ok", "error", "stdout"  # RUN
READY, PROTECTIONS = "ready", "protections"  # the worker's first message

# Arithmetic a proxy forwards, for the names a lesson declares (NameRules.arithmetic).
BINOPS = tuple(f"__{name}__" for name in ("add", "sub", "mul", "truediv", "floordiv", "pow", "matmul", "mod",
                                           "radd", "rsub", "rmul", "rtruediv", "rfloordiv", "rpow", "rmatmul",
                                           "rmod"))
UNOPS = ("__neg__", "__pos__", "__abs__")

# ---------------------------------------------------------------- references (what is not data)
HANDLE = "__handle__"      # a sandbox object, by the worker's number (or a negative one the grader chose)
CALLBACK_REF = "__callback__"  # a grader function the student's code may call back
PICKLED = "__pickled__"    # a grader object sent by value: only ever from the grader to the sandbox
REF_TYPE, REF_NAME, REF_IS_CLASS, REF_METHODS = "type", "name", "is_class", "methods"  # what a handle tells of it


class WireError(Exception):
    """A message that cannot be sent or was malformed (``coursekit.grading.wire``, ``coursekit.grading.sympy_text``)."""
