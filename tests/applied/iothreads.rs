//! The worker pools of `<iothreadids><iothread thread_pool_min/max>` and
//! `<defaultiothread>` on the running QEMU: each I/O thread object, and
//! the main loop's, has the bounds written (`qom-get`); an I/O thread
//! that bounds nothing keeps QEMU's defaults.

use serde_json::json;

use crate::support::{State, firmware_vm};

#[test]
fn iothread_and_main_loop_pools_have_their_bounds() {
    let st = State::new("threadpools");
    st.start(&firmware_vm(
        "pools",
        "<iothreads>3</iothreads>\
         <iothreadids><iothread id='2' thread_pool_min='0' thread_pool_max='60'/>\
         <iothread id='4' thread_pool_min='3' thread_pool_max='3'/><iothread id='1'/></iothreadids>\
         <defaultiothread thread_pool_min='8' thread_pool_max='16'/>",
        "",
    ));
    let mut qmp = st.qmp("pools");
    let threads = qmp.exec("query-iothreads", json!({}));
    assert_eq!(threads.as_array().unwrap().len(), 3, "{threads}");
    for (object, min, max) in [
        ("iothread2", 0, 60),
        ("iothread4", 3, 3),
        // QEMU's defaults.
        ("iothread1", 0, 64),
        ("main-loop", 8, 16),
    ] {
        let path = format!("/objects/{object}");
        assert_eq!(qmp.qom_get(&path, "thread-pool-min"), min, "{object}");
        assert_eq!(qmp.qom_get(&path, "thread-pool-max"), max, "{object}");
    }
    drop(qmp);
    st.stop("pools");
}
