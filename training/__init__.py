"""Training on eax-data datasets with trl, and evaluation of the trained models.

``reward_model`` (the paper's step-1 reward model that later scores x->y candidates), ``sft`` (stage 1:
English-centric pairs with the 20 diverse templates), ``dpo`` (DPO + NLL on the chosen side, the
paper's ``pref_ftx``) and ``cpo`` (ALMA-R's alternative); ``datasets`` (build folder or release ->
rows + provenance), ``config`` (strict YAML configs), ``model_card`` and ``preference`` are shared.
``evaluation`` decodes and scores x2x / en2x / x2en test sets. Modules import torch / transformers /
trl only inside functions, so the CLI stays fast.
"""
