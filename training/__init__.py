"""Training on eax-data preference datasets with trl.

Built so far: the English-centric reward model of the paper's step 1 (``reward_model``), which later
scores x->y candidates. ``datasets`` (build folder or release -> rows + provenance), ``config``
(strict YAML configs) and ``model_card`` are shared with the preference trainers (DPO/CPO/SFT) still
to come. Modules import torch / transformers / trl only inside functions, so the CLI stays fast.
"""
