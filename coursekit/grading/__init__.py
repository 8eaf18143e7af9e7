"""The autograder: student code in a sandbox, tests in the trusted process, results in a gradebook."""
