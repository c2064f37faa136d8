"""Course tooling, off the runtime path: exercise checks and running chapters as labs.

``from noether_lite.course import check`` gives the exercise checks; :mod:`.labs` runs chapters.
``import noether_lite`` imports neither.
"""
