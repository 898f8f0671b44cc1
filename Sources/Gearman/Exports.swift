@_exported import enum GearmanProtocol.GearmanPriority
@_exported import struct GearmanProtocol.GearmanJobStatus
@_exported import struct GearmanProtocol.GearmanServerAddress
