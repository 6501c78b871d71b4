"""The Naver Mileage integration: policy rules, models, services, the provider client and its sandbox."""
