"""The protections a sandbox worker puts on itself, in the forked child, before it runs any student code.

Each function applies one protection and says whether it took effect; ``protect`` applies them all, in order,
and returns the report's list of what is active. What each one needs from the kernel:

- resource limits (CPU seconds, memory, file size, processes, open files): any POSIX system;
- Landlock (Linux 5.13+; more rights with each ABI: truncate 6.2, TCP 6.7, device ioctl 6.10, signal and
  abstract-socket scopes 6.12): reads only under the readable roots, writes only in the worker's folder,
  no TCP, no signal to a process outside the sandbox;
- a seccomp filter (Linux 3.5+, x86-64 and aarch64): no chmod, chown, utime or xattr change on any file (which
  Landlock does not cover), no ptrace, mount, namespaces, kernel keys or modules, no System V IPC or POSIX
  message queues (which would outlive the worker), and signals only to the worker's own processes;
- as root, an unprivileged user: every uid and gid (real, effective, saved, file-system) and no
  supplementary group, so that DAC protects every file the worker does not own;
- a read-only view of every file system (a mount namespace of its own, Linux 5.12+; as a user, inside a user
  namespace of its own, where the distribution allows unprivileged ones): its reads stamp no access time.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import resource
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from coursekit.grading.limits import Limits

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS, _PR_SET_KEEPCAPS, _PR_SET_SECCOMP = 4, 38, 8, 22


# ---------------------------------------------------------------- resource limits
def apply_limits(limits: Limits) -> list[str]:
    """Set the rlimits; the names of those that took effect."""
    applied = []
    for name, kind, value in (("cpu", resource.RLIMIT_CPU, limits.cpu_seconds),
                              ("memory", resource.RLIMIT_AS, limits.memory_bytes),
                              ("file size", resource.RLIMIT_FSIZE, limits.file_bytes),
                              ("processes", resource.RLIMIT_NPROC, limits.processes),
                              ("open files", resource.RLIMIT_NOFILE, limits.open_files)):
        try:
            resource.setrlimit(kind, (value, value))
            applied.append(name)
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead of killing
    return applied


# ---------------------------------------------------------------- Landlock
_LANDLOCK_CREATE, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT = 444, 445, 446
_LANDLOCK_VERSION = 1  # landlock_create_ruleset flag: return the ABI version
_PATH_BENEATH = 1
# File-system rights, by the ABI that introduced them.
_FS_EXECUTE, _FS_WRITE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1                     # the 13 rights of ABI 1 (read, write, make, remove ...)
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers (0: none)."""
    version = _libc.syscall(_LANDLOCK_CREATE, None, ctypes.c_size_t(0), _LANDLOCK_VERSION)
    return max(version, 0)


@dataclass(frozen=True)
class LandlockRights:
    """What a ruleset handles (denies unless a rule allows it) on this kernel."""

    fs: int
    net: int
    scoped: int
    size: int  # of the ruleset attribute the kernel understands

    @classmethod
    def for_abi(cls, abi: int) -> LandlockRights:
        fs = _FS_ABI1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) | \
            (_FS_IOCTL_DEV if abi >= 5 else 0)
        net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
        scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0
        size = 24 if abi >= 6 else 16 if abi >= 4 else 8
        return cls(fs, net, scoped, size)

    def describe(self, abi: int) -> str:
        parts = ["reads only in the Python installation and its folder", "writes nowhere"]
        if self.fs & _FS_TRUNCATE:
            parts.append("no truncation elsewhere")
        if self.net:
            parts.append("no TCP")
        if self.scoped & _SCOPE_SIGNAL:
            parts.append("no signal out of the sandbox")
        return f"landlock ABI {abi}: " + ", ".join(parts)


def landlock(readable: Sequence[str], writable: Sequence[str]) -> str | None:
    """Allow reading only under ``readable`` and writing only under ``writable``, with every right this kernel's
    Landlock handles; a description of what is enforced, or None when Landlock is unavailable."""
    abi = landlock_abi()
    if abi < 1:
        return None
    rights = LandlockRights.for_abi(abi)
    attr = _RulesetAttr(rights.fs, rights.net, rights.scoped)
    ruleset = _libc.syscall(_LANDLOCK_CREATE, ctypes.byref(attr), ctypes.c_size_t(rights.size), 0)
    if ruleset < 0:
        return None
    try:
        read = (_FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR) & rights.fs
        for paths, access in ((readable, read), (writable, rights.fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    # a file (not a folder) only takes the rights that apply to files
                    allowed = access if os.path.isdir(path) else access & _FILE_ONLY
                    rule = _PathBeneathAttr(allowed, fd)
                    _libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0)
                finally:
                    os.close(fd)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return None
        if _libc.syscall(_LANDLOCK_RESTRICT, ruleset, 0) != 0:
            return None
        return rights.describe(abi)
    finally:
        os.close(ruleset)


# Files of /etc that Python, NumPy and matplotlib read; the rest of /etc (shadow, ssh keys ...) stays closed.
ETC_READABLE = ("/etc/ld.so.cache", "/etc/localtime", "/etc/timezone", "/etc/passwd", "/etc/group",
                "/etc/nsswitch.conf", "/etc/mime.types", "/etc/os-release", "/etc/fonts", "/etc/matplotlibrc")


@functools.cache
def readable_roots() -> tuple[str, ...]:
    """What student code may read: the Python installation, system libraries, and coursekit minus its lessons.

    Only folders that cannot contain the course: never "/" (a ``python -m`` run from there puts it on
    sys.path), never the course folder or one of its parents. Found once per process (the sandbox server's warm-up
    finds them before it forks: each worker would spend most of a millisecond on it).
    """
    import coursekit

    package = os.path.dirname(os.path.abspath(coursekit.__file__))
    course = os.path.dirname(package)
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib", "/lib64", "/bin", *ETC_READABLE,
             "/dev/null", "/dev/urandom", "/proc/self"}
    roots |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    roots |= {os.path.join(package, entry) for entry in os.listdir(package) if entry != "lessons"}
    return tuple(sorted(root for root in roots if not _contains(root, course)))


def _contains(folder: str, path: str) -> bool:
    """True when ``path`` is ``folder`` or lies inside it."""
    folder, path = os.path.abspath(folder), os.path.abspath(path)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# ---------------------------------------------------------------- seccomp
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_SYSCALL_BIT = 0x40000000
# Calls no student code needs and every one of which could reach past Landlock: changing a file's mode, owner,
# times or extended attributes, tracing or reading another process, mounting, entering namespaces, the kernel's
# keyrings, modules, eBPF, perf and io_uring (whose operations seccomp cannot see); System V IPC and POSIX message
# queues (kernel objects of the user, not of the folder: they outlive the worker, so a submission could leave a
# hidden test's inputs there for a later cell, or for the next submission, to read); running another program
# (which would compute outside the worker's CPU count); signalling through a process descriptor; leaving the
# worker's process group or session (a child forked past Python's hooks, with libc's fork, would then outlive the
# worker: the group is what is killed); starting a process or a thread (no lesson needs one, BLAS runs in one thread
# here, and each takes a process id from the machine's counter: a red team forked until the next worker's id told
# the same student's next submission a hidden input, modulo 256); reserving disk space (fallocate's "keep size"
# reserves it past the limit on a file's size, where a file can be written: without Landlock); files made in memory
# (memfd_create, memfd_secret: red team Z kept 1.8 GiB in 115 of them, open or passed in flight over a socketpair,
# memory that neither the limit on the address space nor the worker's size counts). And what workers
# running at once could pass each other data through, though each can only read the files they share: locks on
# them (flock, and fcntl's lock, lease and notification commands, below: a red team wrote every hidden input of a
# lesson into the offsets of locks on a library file, which a worker graded beside it read back, F_GETLK, into its
# own feedback), watches on who opens or reads them (inotify, fanotify), and which of their pages the kernel holds in
# memory (mincore, cachestat, preadv2's RWF_NOWAIT read it; fadvise drops them). Page faults and the time of a
# read still tell that last one, and no filter refuses a clock: the README's threat model says so.
_DENIED = {
    "x86_64": {"chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93,
               "lchown": 94, "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
               "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
               "fremovexattr": 199, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
               "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
               "keyctl": 250, "add_key": 248, "request_key": 249, "init_module": 175, "finit_module": 313,
               "delete_module": 176, "kexec_load": 246, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
               "io_uring_setup": 425, "personality": 135, "swapon": 167, "swapoff": 168, "reboot": 169,
               "pidfd_send_signal": 424, "execve": 59, "execveat": 322, "setpgid": 109, "setsid": 112,
               "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "semget": 64, "semop": 65, "semctl": 66,
               "semtimedop": 220, "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "mq_open": 240,
               "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
               "clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "fallocate": 285, "memfd_create": 319,
               "memfd_secret": 447, "flock": 73, "inotify_init": 253, "inotify_init1": 294, "inotify_add_watch": 254,
               "fanotify_init": 300, "fanotify_mark": 301, "mincore": 27, "cachestat": 451, "fadvise64": 221,
               "preadv2": 327, "pwritev2": 328},
    "aarch64": {"fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchownat": 54, "fchown": 55, "utimensat": 88,
                "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
                "fremovexattr": 16, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
                "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
                "keyctl": 219, "add_key": 217, "request_key": 218, "init_module": 105, "finit_module": 273,
                "delete_module": 106, "kexec_load": 104, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
                "io_uring_setup": 425, "personality": 92, "swapon": 224, "swapoff": 225, "reboot": 142,
                "pidfd_send_signal": 424, "execve": 221, "execveat": 281, "setpgid": 154, "setsid": 157,
                "msgget": 186, "msgctl": 187, "msgrcv": 188, "msgsnd": 189, "semget": 190, "semctl": 191,
                "semtimedop": 192, "semop": 193, "shmget": 194, "shmctl": 195, "shmat": 196, "shmdt": 197,
                "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184,
                "mq_getsetattr": 185, "clone": 220, "clone3": 435, "fallocate": 47,
                "memfd_create": 279, "memfd_secret": 447, "flock": 32, "inotify_init1": 26, "inotify_add_watch": 27,
                "fanotify_init": 262, "fanotify_mark": 263, "mincore": 232, "cachestat": 451, "fadvise64": 223,
                "preadv2": 286, "pwritev2": 287},
}
# fcntl's commands that reach past the worker (the rest, on its own file descriptors, stay): record locks, open file
# description locks, leases, directory notifications, and the owner and signal of SIGIO.
_FCNTL = {"x86_64": 72, "aarch64": 25}
_FCNTL_DENIED = {"F_GETLK": 5, "F_SETLK": 6, "F_SETLKW": 7, "F_SETOWN": 8, "F_SETSIG": 10, "F_SETOWN_EX": 15,
                 "F_OFD_GETLK": 36, "F_OFD_SETLK": 37, "F_OFD_SETLKW": 38, "F_SETLEASE": 1024, "F_GETLEASE": 1025,
                 "F_NOTIFY": 1026}
# Calls that send a signal, with the argument that names its target: allowed only towards the worker's own
# process group (0, or minus its number) or the worker itself.
_SIGNALS = {"x86_64": {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
            "aarch64": {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240}}
# No new socket but a connected pair of stream sockets (asyncio's event loop makes one). A socket of the Unix family
# reaches any socket that is a file, which Landlock does not govern: red team AB sent every hidden input of a lesson
# to a socket in a folder it could not read (a datagram socket, or one end of a datagram pair, sends to any address),
# and as a user, talked to the instructor's own agent socket. A stream pair's ends are connected to each other only:
# they refuse another address (EISCONN) and cannot connect anew.
_SOCKET = {"x86_64": 41, "aarch64": 198}
_SOCKETPAIR = {"x86_64": 53, "aarch64": 199}
_SOCK_STREAM, _SOCK_NONBLOCK, _SOCK_CLOEXEC = 1, 0o4000, 0o2000000
_STREAM_TYPES = tuple(_SOCK_STREAM | flags
                      for flags in (0, _SOCK_NONBLOCK, _SOCK_CLOEXEC, _SOCK_NONBLOCK | _SOCK_CLOEXEC))
_BPF_LD_W_ABS, _BPF_JEQ, _BPF_JGE, _BPF_RET = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_KILL_PROCESS = 0x7FFF0000, 0x80000000
_RET_EPERM = 0x00050000 | 1
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24  # offsets in struct seccomp_data (64-bit args, little-endian: low half first)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str, worker: int) -> list[tuple[int, int, int, int]]:
    """The filter, as BPF instructions (code, jt, jf, k), for a worker of process id ``worker``.

    Written with labels, then assembled: each conditional jump names where it goes when the test holds.
    """
    arch, denied = _AUDIT_ARCH[machine], _DENIED[machine]
    allowed_targets = (0, worker, (-worker) & 0xFFFFFFFF)  # its group (0 or -pgid: the worker leads it), itself
    code: list[tuple] = [("ld", _ARCH), ("jeq", arch, "check"), ("ret", _RET_KILL_PROCESS),
                         ("label", "check"), ("ld", _NR)]
    if machine == "x86_64":  # the x32 numbering reaches the same calls under other numbers
        code += [("jge", _X32_SYSCALL_BIT, "deny")]
    code += [("jeq", number, "deny") for number in sorted((*denied.values(), _SOCKET[machine]))]
    code += [("jeq", number, "signal") for number in sorted(_SIGNALS[machine].values())]
    code += [("jeq", _SOCKETPAIR[machine], "pair"), ("jeq", _FCNTL[machine], "fcntl"), ("ret", _RET_ALLOW)]
    # A signal only to the worker's own processes; a pair of sockets only of the stream type (the domain can only be
    # the Unix one); fcntl but for the commands above (the kernel reads the command as 32 bits: the low half of the
    # argument).
    code += [("label", "signal"), ("ld", _ARG0), *[("jeq", target, "allow") for target in allowed_targets],
             ("ret", _RET_EPERM)]
    code += [("label", "pair"), ("ld", _ARG1), *[("jeq", kind, "allow") for kind in _STREAM_TYPES], ("ret", _RET_EPERM)]
    code += [("label", "fcntl"), ("ld", _ARG1), *[("jeq", command, "deny") for command in _FCNTL_DENIED.values()],
             ("ret", _RET_ALLOW)]
    code += [("label", "deny"), ("ret", _RET_EPERM), ("label", "allow"), ("ret", _RET_ALLOW)]
    return _assemble(code)


def _assemble(code: list[tuple]) -> list[tuple[int, int, int, int]]:
    """BPF instructions from (ld, offset), (jeq|jge, value, label), (ret, value) and (label, name)."""
    where, position = {}, 0
    for line in code:
        if line[0] == "label":
            where[line[1]] = position
        else:
            position += 1
    program = []
    for line in code:
        if line[0] == "label":
            continue
        if line[0] == "ld":
            program.append((_BPF_LD_W_ABS, 0, 0, line[1]))
        elif line[0] == "ret":
            program.append((_BPF_RET, 0, 0, line[1]))
        else:  # a jump relative to the next instruction; when the test fails, on to the next one
            jump = where[line[2]] - len(program) - 1
            if not 0 <= jump < 256:
                raise ValueError("a seccomp jump out of range")
            program.append((_BPF_JEQ if line[0] == "jeq" else _BPF_JGE, jump, 0, line[1]))
    return program


def seccomp(worker: int) -> str | None:
    """Install the filter on this process (and what it forks); a description, or None when unavailable."""
    machine = platform.machine()
    if machine not in _AUDIT_ARCH or not sys.platform.startswith("linux"):
        return None
    instructions = seccomp_program(machine, worker)
    filters = (_SockFilter * len(instructions))(*[_SockFilter(*ins) for ins in instructions])
    program = _SockFprog(len(instructions), filters)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return None
    if _libc.prctl(_PR_SET_SECCOMP, 2, ctypes.byref(program), 0, 0) != 0:  # 2: SECCOMP_MODE_FILTER
        return None
    return ("seccomp: no chmod, chown, utime, xattr, exec, ptrace, mount or namespaces; no new process or thread; "
            "no new socket (a connected pair of stream sockets only); "
            "no System V IPC, message queue or kernel key (nothing kept for a later worker); no file in memory; "
            "no lock, watch or page-cache query on a file (nothing passed to a worker beside it); "
            "signals only to its own processes, which stay in its process group")


# ---------------------------------------------------------------- a read-only view of the file systems
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_REC, _MS_PRIVATE = 0x4000, 1 << 18
_MOUNT_SETATTR = 442  # the same on x86-64 and aarch64
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def read_only_view() -> str | None:
    """Give this process a mount namespace of its own in which every file system is read-only; a description, or
    None when the kernel refuses (what it did not get, it does not have).

    On a file system mounted ``relatime`` (the usual default) the first read of a file stamps its access time, which
    ``stat`` shows any later process, Landlock or not: a red team read chosen files among the 4,000 never read in
    /usr/share/doc during hidden tests, and the same learner's next submission, graded by a later command, read
    every hidden input of lesson 01 back from their access times. A read-only mount stamps none. As a user, the
    namespace needs one of users too, in which the worker keeps its own ids and gives up the capabilities that
    namespace gave it."""
    if platform.machine() not in _AUDIT_ARCH or not sys.platform.startswith("linux"):
        return None
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(_CLONE_NEWNS if uid == 0 else _CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        return None
    try:
        if uid != 0:  # its own ids inside, so that nothing it sees of itself changes
            # (its /proc files are root's while it is not dumpable, as its server made it: dumpable only meanwhile)
            _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
            try:
                for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                                   ("gid_map", f"{gid} {gid} 1")):
                    with open(f"/proc/self/{name}", "w") as mapping:
                        mapping.write(text)
            finally:
                _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        # private first, so that no change made here reaches the mounts the grader sees
        if _libc.mount(None, b"/", None, ctypes.c_ulong(_MS_REC | _MS_PRIVATE), None) != 0:
            return None
        attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
        if _libc.syscall(_MOUNT_SETATTR, _AT_FDCWD, b"/", _AT_RECURSIVE, ctypes.byref(attr),
                         ctypes.sizeof(attr)) != 0:
            return None
        return "every file system read-only (no access time stamped)"
    except OSError:
        return None
    finally:
        if uid != 0 and not _capset(0, 0):  # the user namespace's capabilities: none is needed past this point
            raise OSError(ctypes.get_errno(), "cannot give up the user namespace's capabilities")


# ---------------------------------------------------------------- an unprivileged user
_CAPSET, _CAP_VERSION_3 = 126, 0x20080522
_CAP_DAC_READ_SEARCH = 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _capset(effective: int, permitted: int) -> bool:
    data = (_CapData * 2)(_CapData(effective, permitted, 0), _CapData(0, 0, 0))
    return _libc.syscall(_CAPSET, ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) == 0


def drop_privileges(uid: int, keep_reading: bool) -> str | None:
    """When root: become ``uid`` in every id (real, effective, saved, file-system), in group ``uid`` only.

    (The worker's own folder is ``uid``'s already: see forkserver.start_worker.) ``keep_reading``: keep one
    capability, reading and searching past file modes, so that a Python installed under /root (a folder only root
    may enter) stays importable; only ever with Landlock on, which then alone decides what is readable. None when
    not root.
    """
    if os.getuid() != 0:
        return None
    if _libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot keep capabilities across the change of user")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # the file-system ids follow the effective ones
    keep = 1 << _CAP_DAC_READ_SEARCH if keep_reading else 0
    if not _capset(keep, keep):
        raise OSError(ctypes.get_errno(), "cannot give up capabilities")
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
        raise OSError("the change of user did not take")
    return f"unprivileged user {uid} (every uid and gid, no groups)" + \
        (", reads past file modes only where Landlock allows" if keep_reading else ", no capabilities")
