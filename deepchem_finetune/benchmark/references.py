"""Published reference numbers drawn beside ours. Only numbers whose source we could check are listed.

ROC-AUC x 100 (classification), scaffold split; GIN 5 x 300 of Hu et al. (2020).
"""

REFERENCES = {
    # Hu et al., ICLR 2020, Table 1, "No pre-train" (as quoted in our issue tracker)
    "Hu2020 GIN no pretrain": {"bbbp": 65.8, "bace_classification": 70.1},
    # Hu et al., ICLR 2020, Table 1, "Supervised + ContextPred" (as listed on Papers with Code)
    "Hu2020 GIN sup+contextpred": {"bbbp": 68.7, "bace_classification": 84.5, "clintox": 72.6},
}
