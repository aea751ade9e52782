"""Preference training (trl DPO with an NLL term) and x2x / en2x evaluation.

Not built yet: the training and evaluation issue fills this package. Nothing here is importable
beyond this docstring, so no command pretends to train.
"""
