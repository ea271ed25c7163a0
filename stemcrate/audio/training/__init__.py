"""Training the one-shot sample classifier from locally rendered data.

``render`` (FluidSynth + GM soundfonts), ``kits`` (hydrogen sampled kits), ``voice``
(espeak-ng vocal chops), ``synth`` (808/909-style drums, fx, synth notes), ``augment``,
``dataset`` (sources, the held-out split, caches, features), ``mlp`` (numpy MLP) and
``train`` (``stemcrate train-classifier``). Nothing here is imported at inference time.
"""
