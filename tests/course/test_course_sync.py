"""exercises/ is exactly what solutions/ generates: never edited by hand, never stale."""

from course_files import COURSE, MASTERS

from coursekit.assignment.generate import out_of_sync


def test_the_course_has_lessons_and_masters():
    assert (COURSE.lessons / "00_start_here.ipynb").exists()
    assert MASTERS, "solutions/ holds no master notebook"


def test_exercises_are_in_sync_with_solutions():
    stale = out_of_sync(COURSE)
    assert not stale, "run `coursekit generate`: " + "; ".join(f"{c.path.name} {c.reason}" for c in stale)


def test_every_lesson_with_exercises_has_a_lesson_notebook():
    lessons = {path.name for path in COURSE.lesson_notebooks()}
    missing = [master.name for master in MASTERS if master.name not in lessons]
    assert not missing, f"masters without a lesson notebook in notebooks/: {missing}"


def test_every_lesson_and_exercise_set_is_linked_from_the_readme_and_the_start_page():
    readme = (COURSE.root / "README.md").read_text(encoding="utf-8")
    start = (COURSE.lessons / "00_start_here.ipynb").read_text(encoding="utf-8")
    for lesson in COURSE.lesson_notebooks():
        if lesson.name.startswith("00"):
            continue
        assert f"(notebooks/{lesson.name})" in readme, f"README.md does not link {lesson.name}"
        assert f"({lesson.name})" in start, f"00_start_here does not link {lesson.name}"
    for master in MASTERS:
        assert f"(../exercises/{master.name})" in start, f"00_start_here does not link exercises/{master.name}"
