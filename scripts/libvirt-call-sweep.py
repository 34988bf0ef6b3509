#!/usr/bin/python3
"""Which common libvirt client calls a daemon answers.

Defines and starts a small TCG domain on the daemon URI names, makes 123
calls that management tools (virsh, virt-manager, Ansible's and
Terraform's libvirt modules) make, prints OK or the error of each, then
destroys and undefines the domain. Any libvirt URI works, so the same
client can be pointed at qvirtd and at libvirtd:

    target/debug/qvirtd --root /tmp/qd &
    /usr/bin/python3 scripts/libvirt-call-sweep.py \\
        'qemu+unix:///session?socket=/tmp/qd/run/libvirt-sock'
"""
import subprocess
import sys
import tempfile

import libvirt


def main(uri):
    c = libvirt.open(uri)
    work = tempfile.mkdtemp(prefix="call-sweep-")
    image = f"{work}/d.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", image, "16M"], check=True)
    mac = "52:54:00:aa:bb:cc"
    d = c.defineXML(f"""<domain type='qemu'><name>call-sweep</name>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='{image}'/><target dev='vda' bus='virtio'/></disk>
<interface type='user'><mac address='{mac}'/><model type='virtio'/></interface>
<serial type='pty'/><memballoon model='virtio'/></devices></domain>""")
    d.create()
    cpu = "<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"
    calls = {
        "getType": c.getType, "getVersion": c.getVersion, "getLibVersion": c.getLibVersion,
        "getHostname": c.getHostname, "getURI": c.getURI, "getInfo": c.getInfo,
        "getFreeMemory": c.getFreeMemory, "getMaxVcpus": lambda: c.getMaxVcpus(None),
        "getCellsFreeMemory": lambda: c.getCellsFreeMemory(0, 1),
        "getMemoryStats": lambda: c.getMemoryStats(-1), "getCPUStats": lambda: c.getCPUStats(-1),
        "getSysinfo": c.getSysinfo, "isAlive": c.isAlive, "isEncrypted": c.isEncrypted,
        "isSecure": c.isSecure, "getCPUMap": c.getCPUMap, "listDomainsID": c.listDomainsID,
        "listDefinedDomains": c.listDefinedDomains, "numOfDomains": c.numOfDomains,
        "numOfDefinedDomains": c.numOfDefinedDomains,
        "lookupByID": lambda: c.lookupByID(d.ID()).name(),
        "lookupByUUIDString": lambda: c.lookupByUUIDString(d.UUIDString()).name(),
        "listAllNetworks": c.listAllNetworks, "listNetworks": c.listNetworks,
        "listDefinedNetworks": c.listDefinedNetworks,
        "listAllStoragePools": c.listAllStoragePools, "listStoragePools": c.listStoragePools,
        "listAllInterfaces": c.listAllInterfaces, "listAllDevices": c.listAllDevices,
        "listDevices": lambda: c.listDevices(None, 0), "listAllNWFilters": c.listAllNWFilters,
        "listAllSecrets": c.listAllSecrets, "getCapabilities": lambda: len(c.getCapabilities()),
        "getDomainCapabilities": lambda: len(c.getDomainCapabilities()),
        "baselineCPU": lambda: c.baselineCPU([cpu]), "compareCPU": lambda: c.compareCPU(cpu),
        "getAllDomainStats": lambda: len(c.getAllDomainStats()),
        "domainListGetStats": lambda: len(c.domainListGetStats([d])),
        "getSecurityModel": c.getSecurityModel,
        "d.info": d.info, "d.state": d.state, "d.isActive": d.isActive,
        "d.isPersistent": d.isPersistent, "d.isUpdated": d.isUpdated, "d.autostart": d.autostart,
        "d.OSType": d.OSType, "d.maxMemory": d.maxMemory, "d.maxVcpus": d.maxVcpus,
        "d.vcpus": d.vcpus, "d.vcpusFlags": lambda: d.vcpusFlags(0),
        "d.memoryStats": d.memoryStats, "d.blockStats": lambda: d.blockStats("vda"),
        "d.blockStatsFlags": lambda: d.blockStatsFlags("vda"),
        "d.interfaceStats": lambda: d.interfaceStats(mac), "d.blockInfo": lambda: d.blockInfo("vda"),
        "d.getCPUStats": lambda: d.getCPUStats(True), "d.controlInfo": d.controlInfo,
        "d.jobInfo": d.jobInfo, "d.jobStats": d.jobStats, "d.schedulerType": d.schedulerType,
        "d.schedulerParameters": d.schedulerParameters, "d.memoryParameters": d.memoryParameters,
        "d.blkioParameters": d.blkioParameters, "d.numaParameters": d.numaParameters,
        "d.interfaceParameters": lambda: d.interfaceParameters(mac),
        "d.blockIoTune": lambda: d.blockIoTune("vda"), "d.getTime": d.getTime,
        "d.hasManagedSaveImage": d.hasManagedSaveImage,
        "d.hasCurrentSnapshot": d.hasCurrentSnapshot, "d.snapshotNum": d.snapshotNum,
        "d.listAllSnapshots": d.listAllSnapshots, "d.listAllCheckpoints": d.listAllCheckpoints,
        "d.securityLabel": d.securityLabel, "d.securityLabelList": d.securityLabelList,
        "d.emulatorPinInfo": d.emulatorPinInfo, "d.vcpuPinInfo": lambda: d.vcpuPinInfo(0),
        "d.ioThreadInfo": d.ioThreadInfo,
        "d.interfaceAddresses(lease)": lambda: d.interfaceAddresses(0),
        "d.interfaceAddresses(arp)": lambda: d.interfaceAddresses(2),
        "d.fsInfo": d.fsInfo, "d.guestInfo": d.guestInfo, "d.hostname": d.hostname,
        "d.metadata": lambda: d.metadata(0, None), "d.diskErrors": d.diskErrors,
        "d.blockJobInfo": lambda: d.blockJobInfo("vda"),
        "d.migrateGetMaxSpeed": d.migrateGetMaxSpeed,
        "d.migrateGetMaxDowntime": d.migrateGetMaxDowntime,
        "d.migrateGetCompressionCache": d.migrateGetCompressionCache,
        "d.launchSecurityInfo": d.launchSecurityInfo, "d.perfEvents": d.perfEvents,
        "d.authorizedSSHKeysGet": lambda: d.authorizedSSHKeysGet("root"),
        "d.guestVcpus": d.guestVcpus, "d.setMemoryStatsPeriod": lambda: d.setMemoryStatsPeriod(5),
        "d.setMemory": lambda: d.setMemory(60 * 1024),
        "d.suspend+resume": lambda: (d.suspend(), d.resume()),
        "d.sendKey": lambda: d.sendKey(0, 0, [28], 1, 0), "d.injectNMI": d.injectNMI,
        "d.reboot": d.reboot, "d.reset": d.reset, "d.setAutostart": lambda: d.setAutostart(1),
        "d.blockPeek": lambda: len(d.blockPeek("vda", 0, 512)),
        "d.memoryPeek": lambda: len(d.memoryPeek(0, 512, libvirt.VIR_MEMORY_PHYSICAL)),
        "d.XMLDesc(secure)": lambda: len(d.XMLDesc(1)),
        "d.XMLDesc(migratable)": lambda: len(d.XMLDesc(8)),
        "getFreePages": lambda: c.getFreePages([4, 2048], 0, 1), "getSEVInfo": c.getSEVInfo,
        "getStoragePoolCapabilities": lambda: len(c.getStoragePoolCapabilities()),
        "findStoragePoolSources": lambda: c.findStoragePoolSources("logical", None),
        "interfaceLookupByName": lambda: c.interfaceLookupByName("lo").name(),
        "interface.XMLDesc": lambda: len(c.interfaceLookupByName("lo").XMLDesc()),
        "listInterfaces": c.listInterfaces, "listDefinedInterfaces": c.listDefinedInterfaces,
        "numOfInterfaces": c.numOfInterfaces,
        "nodeDeviceLookupByName": lambda: c.nodeDeviceLookupByName("computer").name(),
        "nodeDevice.XMLDesc": lambda: len(c.nodeDeviceLookupByName("computer").XMLDesc()),
        "numOfDevices": lambda: c.numOfDevices(None, 0),
        "listNWFilters": c.listNWFilters, "listAllNWFilterBindings": c.listAllNWFilterBindings,
        "networkLookupByName": lambda: c.networkLookupByName("default"),
        "domainXMLFromNative": lambda: c.domainXMLFromNative("qemu-argv", "qemu-system-x86_64 -m 64", 0),
        "domainXMLToNative": lambda: len(c.domainXMLToNative("qemu-argv", d.XMLDesc(), 0)),
        "getMemoryParameters": c.getMemoryParameters,
        "getCPUModelNames": lambda: len(c.getCPUModelNames("x86_64")),
    }
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    answered = 0
    for name, call in calls.items():
        try:
            result = call()
            answered += 1
            print(f"OK   {name:<32} {str(result)[:70]}")
        except libvirt.libvirtError as e:
            print(f"ERR  {name:<32} [{e.get_error_code()}] {str(e)[:110]}")
    print(f"{answered} of {len(calls)} calls answered")
    d.destroy()
    d.undefine()
    subprocess.run(["rm", "-rf", work], check=True)


if __name__ == "__main__":
    main(sys.argv[1])
