"""The caps on what the grader reads from an input, in one place (the README quotes their figures).

Any input may be hostile: these bound the memory and time that reading one can cost, before
any student code runs. An input past a cap is recorded as rejected, with the cap in its reason.
The course's largest master, outputs included, is 120 kB: the caps leave honest work far inside.
"""

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
