"""The check-and-report helpers of the Python test scripts here (not a test itself: the runner takes only
executable test_* files): each check prints ok or FAIL with what it checked, and finish() gives the exit status."""

FAILS = []


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        FAILS.append(what)


def refused(fn, needle, error):
    """Does fn raise `error` with needle in its message?"""
    try:
        fn()
    except error as e:
        return needle in str(e)
    return False


def finish():
    if FAILS:
        print("%d checks failed" % len(FAILS))
        return 1
    print("all checks passed")
    return 0
