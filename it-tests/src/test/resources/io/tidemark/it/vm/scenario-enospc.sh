# A full export with policy enospc and nobody to grow it: the guest writes FILES files of FILE_MIB
# MiB, more than the quota; a write must fail with an I/O error, and the guest must carry on
# (this script reaching its end is the proof that nothing hung).
wait_for_device /dev/vda
phase booted
/usr/sbin/mke2fs -q -t ext4 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard /dev/vda
mount -t ext4 -o noinit_itable,errors=continue /dev/vda /mnt
phase mkfs
i=1
failed=none
while [ "$i" -le "$FILES" ]; do
  if ! write_random_file "/mnt/file$i" "$FILE_MIB" 2>/tmp/write.err; then
    failed="file$i: $(tail -n 1 /tmp/write.err)"
    break
  fi
  i=$((i + 1))
done
phase stopped
mark write-failed "$failed"
mark files-before-failure "$((i - 1))"
mark io-errors "$(count_io_errors)"
dmesg | grep -i -m 3 -e 'I/O error' -e 'EXT4-fs' | sed 's/^/kernel: /'
# The files completed (and fsync'd) before the failure read back intact; the manifest lists only those.
drop_caches
md5sum -c -s /tmp/manifest
mark intact "$(wc -l < /tmp/manifest)"
umount /mnt || mount -o remount,ro /mnt
