//! Parsing and formatting a valid `traceparent` never touches the heap.

use taskwire_core::propagation::TraceParent;
use taskwire_test_support::alloc::count;
use taskwire_test_support::CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn parse_and_format_do_not_allocate() {
    let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut checksum = 0u64;
    let ((), counted) = count(|| {
        for _ in 0..10_000 {
            let tp = TraceParent::parse(std::hint::black_box(header)).expect("valid");
            let bytes = tp.to_bytes();
            checksum += u64::from(bytes[54]);
            tp.with_str(|s| checksum += s.len() as u64);
        }
    });
    assert_eq!(
        counted.allocs, 0,
        "allocations while parsing and formatting"
    );
    assert_eq!(checksum, 10_000 * (u64::from(b'1') + 55));
}
