# Shared by every guest's /init (after the generated variables): mount the kernel's file systems,
# load the modules in $MODULES (ordered by modules.dep on the host), define the helpers the
# scenarios use. Busybox prefers its own applets to PATH, so host programs are called by full path.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages stay off the console so they cannot split a result line; on failure the
# epilogue prints the tail of dmesg instead.
dmesg -n 1

# Result lines the test reads: TIDEMARK <key> <value>.
mark() {
  echo "TIDEMARK $*"
}

for module in $MODULES; do
  insmod "$module" || mark module-failed "$module"
done

# Waits up to 10 s for a device node (driver probing can finish after insmod returns).
wait_for_device() {
  tries=0
  while [ ! -b "$1" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
      echo "no device $1" >&2
      return 1
    fi
    usleep 100000
  done
}

# QEMU's user-mode network: the guest is 10.0.2.15; the test forwards one address to the host.
network_up() {
  ip link set lo up
  ip addr add 10.0.2.15/24 dev eth0
  ip link set eth0 up
}

# Seconds since boot with centiseconds, for the timings the scenarios report.
uptime_seconds() {
  cut -d ' ' -f 1 /proc/uptime
}

# Forget cached file data, so that reads after this come from the disk.
drop_caches() {
  sync
  echo 3 > /proc/sys/vm/drop_caches
}

# A timing line: TIDEMARK phase <name> <seconds since boot>.
phase() {
  mark phase "$1" "$(uptime_seconds)"
}

# Writes $2 MiB of random bytes to file $1 and records the file's checksum in /tmp/manifest.
# conv=fsync makes a failed write fail dd itself instead of surfacing later, or never. The
# checksum is taken while the file is still in the page cache, before any of it is read back
# from the disk; busybox dd with 1 MiB blocks is far faster under TCG than a pipe through tee.
write_random_file() {
  dd if=/dev/urandom of="$1" bs=1M count="$2" iflag=fullblock conv=fsync 2>/tmp/dd.err || {
    cat /tmp/dd.err >&2
    return 1
  }
  [ "$(stat -c %s "$1")" -eq $(($2 * 1048576)) ]
  md5sum "$1" >> /tmp/manifest
}

# Kernel log lines that report a failed block I/O or a file system error.
count_io_errors() {
  dmesg | grep -c -i -e 'I/O error' -e 'EXT4-fs error' -e 'Buffer I/O' || true
}
