"""Everything that imports torch: modules, data loading and the skorch net.

Imported lazily by the estimators, so that ``import sklearn_rnn`` stays light.
"""
