@_exported import struct GearmanProtocol.GearmanJobStatus
@_exported import enum GearmanProtocol.GearmanPriority
@_exported import struct GearmanProtocol.GearmanServerAddress
@_exported import struct GearmanTLS.GearmanTLSError
@_exported import struct GearmanTLS.GearmanTLSFiles
