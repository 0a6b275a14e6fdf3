# The Linux kernel's own NBD client: nbd-client attaches the export as /dev/nbd0 over the
# forwarded network address. Parameters: EXPORT, NBD_HOST, NBD_PORT, FILES, FILE_MIB.
network_up
/usr/sbin/nbd-client "$NBD_HOST" "$NBD_PORT" /dev/nbd0 -N "$EXPORT"
mark attached "$(cat /sys/block/nbd0/size)"
/usr/sbin/mke2fs -q -t ext4 /dev/nbd0
mount -t ext4 /dev/nbd0 /mnt
i=1
while [ "$i" -le "$FILES" ]; do
  write_random_file "/mnt/file$i" "$FILE_MIB"
  i=$((i + 1))
done
umount /mnt
/usr/sbin/nbd-client -d /dev/nbd0
mark written "$FILES"
# A fresh connection, so that what is verified comes from the server and not from any cache.
/usr/sbin/nbd-client "$NBD_HOST" "$NBD_PORT" /dev/nbd0 -N "$EXPORT"
mount -t ext4 -o ro /dev/nbd0 /mnt
md5sum -c -s /tmp/manifest
mark verified "$(wc -l < /tmp/manifest)"
umount /mnt
/usr/sbin/nbd-client -d /dev/nbd0
mark disconnected nbd0
