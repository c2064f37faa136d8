"""A student edition of the book: ``NOETHER_STUDENT_EDITION=1 bash ci/build_book.sh``.

With the flag set, the exercise pages are built without their links to the worked solutions
(the paragraph that starts with "Stuck?"); everything else is the same book.
"""
import os

FLAG = "NOETHER_STUDENT_EDITION"


def drop_solution_links(app, docname, source):
    """``source-read`` handler: remove the solutions paragraph from an exercise page."""
    if os.environ.get(FLAG) != "1" or not docname.startswith("exercises_"):
        return
    source[0] = "\n".join(line for line in source[0].splitlines() if not line.startswith("Stuck?")) + "\n"


def setup(app):
    app.connect("source-read", drop_solution_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
