"""What platform partners call: whether their workers are covered (and, in `app.webhooks`, the
events that tell them when cover starts or ends). No identity and no health data ever leaves
through this package."""
