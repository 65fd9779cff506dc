"""The main job: connection strategies side by side under concurrent Lambda load (``harness compare``).

Data (:mod:`records`) is kept apart from how it is summarised (:mod:`summary`) and rendered (:mod:`report`), in the
manner of Locust's stats: pure functions from records to rows, thin writers around them.
"""
