enum GearmanServerPlaceholder {}
