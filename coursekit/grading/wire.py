"""What crosses between the grader and the sandbox: plain data only, as length-prefixed JSON.

Plain data is None, bools, numbers, strings, NumPy arrays of numbers (raw bytes, never pickled),
SymPy expressions (as `srepr` text, rebuilt by a parser that only calls whitelisted SymPy
constructors), and lists, tuples and dicts of those. Anything else stays where it lives and
crosses as a reference: a *handle* to a sandbox object, a *callback* to a grader object.
Nothing received is ever unpickled or evaluated.
"""

from __future__ import annotations

import binascii
import json
import re
import socket
import struct
import time
from collections.abc import Callable

import numpy as np

from coursekit.feedback.widened import widened as widened_array
from coursekit.grading import protocol
from coursekit.grading.limits import (
    COUNTED_FROM_BYTES,
    MAX_DEPTH,
    MAX_MESSAGE,
    MAX_MESSAGE_VALUES,
    MAX_TEXT,
    MiB,
)
from coursekit.grading.notebook_json import NotASubmission, check_json_size
from coursekit.grading.protocol import WireError
from coursekit.grading.sympy_text import forget_what_was_read as _forget_sympy_texts
from coursekit.grading.sympy_text import parse_sympy, srepr_of

NUMERIC_KINDS = "biufc"


# ---------------------------------------------------------------- framing
def send(sock: socket.socket, message: dict, deadline: float | None = None) -> None:
    """Send one message (a JSON object) with a 4-byte length prefix; TimeoutError past ``deadline``
    (time.monotonic), which no progress extends."""
    send_framed(sock, frame(message), deadline)


def frame(message: dict) -> bytes:
    """One message as it goes on the wire: a 4-byte length prefix, then the JSON object."""
    return _framed(to_json(message))


def frame_list(op: str, key: str, items: list[bytes]) -> bytes:
    """The message ``{"op": op, key: [...]}`` framed (``frame``), its list made of JSON texts already encoded."""
    return _framed(b'{"%s":"%s","%s":[%s]}' % (protocol.OP.encode(), op.encode(), key.encode(), b",".join(items)))


def to_json(value) -> bytes:
    """``value`` (JSON-able data) as compact JSON, in UTF-8."""
    return _ENCODE(value).encode("utf-8")


def _framed(data: bytes) -> bytes:
    if len(data) > MAX_MESSAGE:
        raise WireError(f"message of {len(data):,} bytes exceeds the limit of {MAX_MESSAGE:,}")
    return struct.pack("!I", len(data)) + data


def _not_json(value):
    raise TypeError(f"{type(value).__name__} is not JSON-able")


# Made once: JSONEncoder.encode builds a new C encoder at every call, which costs more than encoding a short message.
# NaN and infinities are allowed (as JavaScript's tokens, which json.loads reads back).
_ENCODER = json.JSONEncoder(allow_nan=True, separators=(",", ":"))
if json.encoder.c_make_encoder is not None:
    _C_ENCODER = json.encoder.c_make_encoder(None, _not_json, json.encoder.encode_basestring_ascii, None, ":", ",",
                                             False, False, True)

    def _ENCODE(value) -> str:
        return "".join(_C_ENCODER(value, 0))
else:  # pragma: no cover -- a Python without the json module's C accelerator
    _ENCODE = _ENCODER.encode


def send_framed(sock: socket.socket, data: bytes, deadline: float | None = None) -> None:
    """Send messages already framed (``frame``), one after another; TimeoutError past ``deadline``."""
    if deadline is None:
        sock.settimeout(None)
        sock.sendall(data)
        return
    view = memoryview(data)
    while view:
        sock.settimeout(_left(deadline))
        view = view[sock.send(view):]


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


def _read_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        sock.settimeout(None if deadline is None else _left(deadline))
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, deadline: float | None = None) -> dict:
    """Receive one message; EOFError when the other side is gone, TimeoutError past ``deadline`` (time.monotonic,
    for the whole message: a sender that trickles bytes gains nothing), WireError when it is not a message."""
    (size,) = struct.unpack("!I", _read_exactly(sock, 4, deadline))
    if size > MAX_MESSAGE:
        raise WireError(f"incoming message of {size:,} bytes exceeds the limit")
    raw = _read_exactly(sock, size, deadline)
    if size > COUNTED_FROM_BYTES:
        _check_values(raw)
    try:
        message = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError(f"not a message ({type(error).__name__})") from error
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return _without_lone_surrogates(message) if _SURROGATE_ESCAPE.search(raw) else message


# A surrogate can only reach a message as an escape: JSON may write a lone one, which UTF-8 cannot hold.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(message: dict) -> dict:
    """``message`` with every lone surrogate in its texts as U+FFFD, walked without recursion (a message may nest
    deeply). A student's exception message "\\ud800" made the gradebook refuse the grade's text (SQLite stores
    UTF-8), and the course server graded the upload three times, then rejected it."""
    def clean(text: str) -> str:
        if text.isascii() or not _SURROGATE.search(text):
            return text
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    stack: list = [message]
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in items:
            if isinstance(value, str):
                value = clean(value)
            elif isinstance(value, (list, dict)):
                stack.append(value)
            if isinstance(node, dict) and isinstance(key, str) and (cleaned := clean(key)) != key:
                del node[key]
                key = cleaned
            node[key] = value
    return message


def _check_values(raw: bytes) -> None:
    """WireError when ``raw`` holds more values than a message may (counted without parsing it)."""
    try:
        check_json_size(raw, "a message", MAX_MESSAGE_VALUES)
    except NotASubmission as error:
        raise WireError(str(error)) from error


# ---------------------------------------------------------------- values
def encode(value, reference: Callable[[object], dict], depth: int = 0, *, plain: bool = False):
    """``value`` as JSON-able data; objects that are not plain data become ``reference(value)``. ``plain`` (the
    sandbox, answering): a tuple, list or dict of a subclass (a namedtuple, an OrderedDict, a defaultdict) goes as
    the plain one it is; a handle, the grader found "a _Proxy" where check() found a tuple (red team Q)."""
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    kind = type(value)
    # The exact types first (most of what crosses is these), by identity: a subclass is not the type it extends.
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if kind is int:
        return value if -2**63 < value < 2**63 else {"__bigint__": str(value)}
    if kind is np.ndarray and value.dtype.kind in NUMERIC_KINDS:
        return {"__ndarray__": _array(value)}
    if kind is list or (plain and isinstance(value, list)):
        return [encode(item, reference, depth + 1, plain=plain) for item in list.__iter__(value)]
    if kind is tuple or (plain and isinstance(value, tuple)):
        return {"__tuple__": [encode(item, reference, depth + 1, plain=plain) for item in tuple.__iter__(value)]}
    if kind is dict or (plain and isinstance(value, dict)):
        return {"__dict__": [[encode(key, reference, depth + 1, plain=plain),
                              encode(item, reference, depth + 1, plain=plain)] for key, item in dict.items(value)]}
    if kind is complex:
        return {"__complex__": [value.real, value.imag]}
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return {"__ndarray__": _array(np.asarray(value)), "scalar": True}
    if isinstance(value, str):  # a str of a subclass (a translated message) goes as the text it is
        return value
    text = srepr_of(value)
    if text is not None:
        return {"__sympy__": text}
    return reference(value)


_JSON_SCALARS = frozenset({type(None), bool, int, float, str})  # what json.loads makes that is not a container


class Widening:
    """What the arrays of one message may take once widened (see ``decode``): twice the message limit. Each narrow
    array grows to 8 bytes a number: a 61 MiB reply of int8 arrays took 353 MiB more in the grader (red team R)."""

    def __init__(self, allowance: int = 2 * MAX_MESSAGE):
        self.left = allowance

    def spend(self, array: np.ndarray) -> None:
        """WireError when widening ``array`` would pass what is left."""
        self.left -= array.size * max(array.dtype.itemsize, 8)
        if self.left < 0:
            raise WireError(f"arrays of more than {2 * MAX_MESSAGE // MiB} MiB once widened, in one answer")


def decode(data, resolve: Callable[[dict], object], depth: int = 0, *, widen: bool | Widening = False):
    """The value ``encode`` produced; ``resolve`` turns a reference back into an object (or a proxy).

    ``widen`` (the grader, reading what the student's code gave): a NumPy scalar or 0-d array is a number at full
    width (``widened``), an array of a narrow type is widened (``coursekit.feedback.widened``); a Widening bounds
    what they take then.
    """
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    kind = type(data)
    if kind in _JSON_SCALARS:
        if kind is str and len(data) > MAX_TEXT:
            raise WireError(f"a text of more than {MAX_TEXT:,} characters")
        return data
    if kind is list:
        return [decode(item, resolve, depth + 1, widen=widen) for item in data]
    if kind is not dict:
        raise WireError(f"unexpected {kind.__name__} in a message")
    if "__ndarray__" in data:
        array = _from_array(data["__ndarray__"])
        if widen:  # numbers at full width, see widened
            if isinstance(widen, Widening):
                widen.spend(array)
            return widened(array) if array.ndim == 0 else widened_array(array)
        return array[()] if data.get("scalar") else array
    if "__tuple__" in data:
        return tuple(decode(item, resolve, depth + 1, widen=widen) for item in _list(data["__tuple__"]))
    if "__dict__" in data:
        return {_hashable(decode(k, resolve, depth + 1, widen=widen)): decode(v, resolve, depth + 1, widen=widen)
                for k, v in _list(data["__dict__"])}
    if "__complex__" in data:
        real, imag = data["__complex__"]
        return complex(float(real), float(imag))
    if "__bigint__" in data:
        return int(str(data["__bigint__"]), 10)
    if "__sympy__" in data:
        return parse_sympy(str(data["__sympy__"]))
    if protocol.HANDLE in data or protocol.CALLBACK_REF in data or protocol.PICKLED in data:
        return resolve(data)  # the receiving side decides what it accepts
    raise WireError(f"unknown data tag {sorted(data)[:3]}")


def widened(array: np.ndarray):
    """A 0-d array's number at full width: a Python bool or int (never overflowing), an np.float64 or np.complex128.

    A test compares a number with Python floats (``abs(got - 2.5) < 1e-12``), and NumPy computes that in the type of
    the number: an np.float32 would round the difference away (a float16 makes the tolerance itself 0), an np.int8's
    abs(-128) stays -128. Widened, the number keeps its value and the test its tolerance."""
    if array.dtype.kind in "biu":
        return array.item()
    return array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)[()]


def _list(data) -> list:
    if type(data) is not list:
        raise WireError(f"expected a list in a message, not {type(data).__name__}")
    return data


def _hashable(key):
    if isinstance(key, (list, dict, np.ndarray)):
        raise WireError("a dict key must be a plain hashable value")
    return key


def _array(array: np.ndarray) -> dict:
    # A transposed array (Fortran-ordered) arrives as one: the learner's code gets the layout a kernel would give it
    # (`x.reshape(-1)` of a transpose is a copy, and a checker that moved x through it saw every slope 0: red team Z)
    fortran = array.ndim > 1 and array.flags.f_contiguous and not array.flags.c_contiguous
    spec = {"dtype": array.dtype.str, "shape": list(array.shape),
            "data": binascii.b2a_base64(array.tobytes(order="F" if fortran else "C"), newline=False).decode("ascii")}
    if fortran:
        spec["order"] = "F"
    return spec


_DTYPES: dict[str, np.dtype] = {}  # the dtypes met so far, by their text: each checked once


def forget_what_was_read() -> None:
    """Forget the SymPy texts and dtypes read so far, before a grading process reads another submission's; and,
    once any SymPy text has been, what SymPy itself has kept since (its cache of what it computed).

    Kept, they told a later submission what an earlier one had sent: a text built before answers at once, and a
    student's function that returned the hidden arguments it was called with as a SymPy text left them for the next
    submission to find, by timing the grader on candidates of its own (red team X through this module's caches,
    4 ms against 31 ms; red team Y through SymPy's, with right answers that scored full marks)."""
    _DTYPES.clear()
    _forget_sympy_texts()


def _dtype(text) -> np.dtype:
    known = _DTYPES.get(text) if type(text) is str else None
    if known is not None:
        return known
    try:
        dtype = np.dtype(str(text))
    except (TypeError, ValueError) as error:
        raise WireError("not an array's dtype") from error
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"arrays of dtype {dtype} are not plain data")
    if len(_DTYPES) < 64:
        _DTYPES[text] = dtype
    return dtype


def _from_array(spec) -> np.ndarray:
    if type(spec) is not dict:
        raise WireError("an array must be described by a dict")
    dtype = _dtype(spec.get("dtype"))
    shape = spec.get("shape")
    if type(shape) is not list:
        raise WireError("an array's shape must be a list of sizes")
    try:
        raw = binascii.a2b_base64(spec.get("data"), strict_mode=True)  # base64.b64decode(validate=True), faster
    except (binascii.Error, TypeError, ValueError) as error:
        raise WireError("array data is not base64") from error
    # A view of the bytes in the shape, in one call, then an array of its own (writable, owning its data, as any the
    # student makes): half the cost of frombuffer, reshape and copy, and one reply can carry hundreds of small arrays.
    # The view refuses sizes that are not integers and data too short for the shape; a negative size (which it would
    # infer) and data too long are refused here.
    order = spec.get("order", "C")
    if order not in ("C", "F"):
        raise WireError("an array's order must be C or F")
    try:
        if shape and min(shape) < 0:
            raise ValueError("a negative size")
        view = np.ndarray(shape, dtype, raw, order=order)
    except (TypeError, ValueError) as error:
        raise WireError("array data does not match its shape") from error
    if view.nbytes != len(raw):
        raise WireError("array data does not match its shape")
    return view.copy(order="K")  # its own data, in the order it came in
