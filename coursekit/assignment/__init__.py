"""Assignments: masters in solutions/ become the learners' exercises/.

- ``markers``      the nbgrader region markers in a cell's text
- ``notebooks``    reading/writing notebooks with clear errors
- ``cells``        a cell's nbgrader role (solution, test, points)
- ``validate``     what makes a master well formed
- ``student_copy`` the pipeline of steps from a master to a learner's copy
- ``course``       where lessons, masters and exercises live
- ``generate``     writing exercises/ and checking that it is in sync
- ``execute``      re-running notebooks so stored outputs are fresh
"""
