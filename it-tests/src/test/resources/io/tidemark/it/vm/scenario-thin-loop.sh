# The thin-provisioning loop as the guest sees it: FILES files of FILE_MIB MiB go onto an export
# whose quota starts far below that. The server holds writes at the quota (policy pause) until the
# test's manager raises it, so the guest must never see an error.
wait_for_device /dev/vda
phase booted
# Lazy inode tables without the kernel's background zeroing (noinit_itable): the guest's usage
# is the files it writes, not a housekeeping thread racing the quota.
/usr/sbin/mke2fs -q -t ext4 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard /dev/vda
mount -t ext4 -o noinit_itable /dev/vda /mnt
phase mkfs
i=1
while [ "$i" -le "$FILES" ]; do
  write_random_file "/mnt/file$i" "$FILE_MIB"
  i=$((i + 1))
done
sync
phase written
mark written "$FILES"
mark used-kib "$(df -k /mnt | tail -n 1 | awk '{print $3}')"
errors=$(count_io_errors)
mark io-errors "$errors"
[ "$errors" -eq 0 ]
umount /mnt
drop_caches
mount -t ext4 -o ro,noinit_itable /dev/vda /mnt
md5sum -c -s /tmp/manifest
mark verified "$(wc -l < /tmp/manifest)"
phase verified
umount /mnt
/usr/sbin/e2fsck -f -n /dev/vda > /tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; exit 1; }
mark fsck clean
