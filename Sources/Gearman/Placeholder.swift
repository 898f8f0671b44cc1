enum GearmanPlaceholder {}
