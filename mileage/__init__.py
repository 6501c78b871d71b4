"""The Naver Mileage integration: policy rules, the wire protocol, models, services and the provider client."""
