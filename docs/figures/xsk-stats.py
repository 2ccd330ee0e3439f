# prints XDP_STATISTICS of every AF_XDP socket of a process (pidfd_getfd + getsockopt)
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1]); pidfd = os.pidfd_open(pid)
for name in os.listdir(f"/proc/{pid}/fd"):
    try:
        if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"): continue
    except OSError: continue
    fd = libc.syscall(438, pidfd, int(name), 0)
    if fd < 0: continue
    buf = ctypes.create_string_buffer(48); ln = ctypes.c_uint32(48)
    if libc.getsockopt(fd, 283, 7, buf, ctypes.byref(ln)) == 0:
        print(f"fd {name}: rx_dropped rx_invalid tx_invalid rx_ring_full fill_empty tx_ring_empty =", struct.unpack("6Q", buf.raw))
    os.close(fd)
