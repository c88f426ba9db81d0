"""Published reference numbers drawn beside ours. Only numbers whose source we could check are listed.

ROC-AUC x 100 (classification), scaffold split; GIN 5 x 300 of Hu et al. (2020).
"""

REFERENCES = {
    # Hu et al., ICLR 2020, Table 1, "No pre-train" (as quoted in our issue tracker)
    "Hu2020 GIN no pretrain": {"bbbp": 65.8, "bace_classification": 70.1},
    # Hu et al., ICLR 2020, Table 1, "Supervised + ContextPred" (as listed on Papers with Code)
    "Hu2020 GIN sup+contextpred": {"bbbp": 68.7, "bace_classification": 84.5, "clintox": 72.6},
}

#: FLIP (Dallago et al. 2021, NeurIPS Datasets & Benchmarks, openreview p2dMLEwL8tF), GB1, test Spearman of the
#: "Ridge" (one-hot) and "CNN" baselines, as transcribed in SpectrAI-Initiative/bio-benchmark-atlas
#: (registry/evaluations/flip-gb1-*.yaml); not re-checked against the PDF here.
FLIP_REFERENCES = {
    "FLIP ridge": {"flip_gb1:one_vs_rest": 0.28, "flip_gb1:two_vs_rest": 0.59, "flip_gb1:three_vs_rest": 0.76,
                   "flip_gb1:low_vs_high": 0.34, "flip_gb1:sampled": 0.82},
    "FLIP CNN": {"flip_gb1:one_vs_rest": 0.17, "flip_gb1:two_vs_rest": 0.32, "flip_gb1:three_vs_rest": 0.83,
                 "flip_gb1:low_vs_high": 0.51, "flip_gb1:sampled": 0.91},
}
