"""Statistics: the NPLM goodness-of-fit test and its calibration."""
