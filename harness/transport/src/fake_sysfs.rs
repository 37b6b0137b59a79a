//! A fake sysfs tree for tests of the USB lookup ([`crate::serial::resolve_under`]): what
//! `/sys/class/tty/<name>` and `/dev/<name>` look like for a usb-serial adapter, under a folder
//! of the test's. Not for production use.

use std::os::unix::fs::symlink;
use std::path::Path;

/// Adds a usb-serial tty `name` of 2c7c:0125 (a Quectel module), interface `interface`, to the
/// tree under `root`; its `/dev` entry is a link to `device`.
pub fn plug(root: &Path, name: &str, interface: u8, device: &Path) -> std::io::Result<()> {
    let usb = root.join("sys/devices/usb1/1-1");
    let iface = usb.join(format!("1-1:1.{interface}"));
    let tty = iface.join(name);
    std::fs::create_dir_all(&tty)?;
    std::fs::create_dir_all(root.join("sys/bus/usb-serial"))?;
    std::fs::create_dir_all(root.join("sys/class/tty").join(name))?;
    std::fs::create_dir_all(root.join("dev"))?;
    std::fs::write(usb.join("idVendor"), "2c7c\n")?;
    std::fs::write(usb.join("idProduct"), "0125\n")?;
    std::fs::write(iface.join("bInterfaceNumber"), format!("{interface:02}\n"))?;
    symlink(root.join("sys/bus/usb-serial"), tty.join("subsystem"))?;
    symlink(&tty, root.join("sys/class/tty").join(name).join("device"))?;
    symlink(device, root.join("dev").join(name))
}
