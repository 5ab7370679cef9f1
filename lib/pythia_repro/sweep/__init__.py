"""Scoring checkpoints at scale: the plan (which checkpoint scores which rows for which finding), the engines that
run it (here or on Ray), the content-keyed score cache, the cost estimate and the hub cache under a disk budget."""
