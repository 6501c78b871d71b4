"""Every write on the portal's mileage data: keyword-only `<entity>_<action>` functions."""
