enum GearmanProtocolPlaceholder {}
