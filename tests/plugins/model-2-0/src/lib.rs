//! Test fixture: a source plugin of canonical model **2.0**, older than the
//! host's minor. It knows nothing of the fields model 2.1 added
//! (`students.graduation_year`), and it is written straight against the ABI
//! crate with arrow-rs 56, not the SDK and the workspace's arrow-rs: what a
//! plugin built a while ago, by a third party or in another language, sends.
//!
//! It produces three students with model 2.0's columns; the end-to-end test
//! runs it into today's sinks and checks the missing column reads as null.
#![allow(unsafe_code, reason = "exporting a root module and Arrow C structs by hand")]

use std::sync::Arc;

use abi_stable::export_root_module;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RString, RVec};
use arrow_array::builder::{Int8Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::types::Int8Type;
use arrow_array::{
    Array, ArrayRef, Date32Array, DictionaryArray, RecordBatch, StringArray, StructArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use ferry_plugin_abi::{
    ABI_VERSION, ArrowArray, ArrowBatch, ArrowSchema, Batch, ErrorKind, FfiSource, FfiSource_TO, HostLogger,
    OpenRequest, PluginError, PluginModule, PluginModuleRef, SinkBox, SourceBox,
};

const MANIFEST: &str = r#"id = "model-2-0"
version = "2.0.0"
description = "Test fixture: a model 2.0 source written without the SDK"
capabilities = ["source"]
entities = ["students"]
"#;

/// The embedded manifest section (what `ferry plugins package` reads without
/// loading the library), written by hand as a plugin without the SDK must.
const SECTION_PARTS: &[&str] = &[
    ferry_plugin_abi::embedded::MAGIC,
    "abi_version=",
    ABI_VERSION,
    "\nmodel_version=2.0\ncrate_version=2.0.0\n\n",
    MANIFEST,
];
#[unsafe(link_section = ".ferry_manifest")]
#[used]
static MANIFEST_SECTION: [u8; ferry_plugin_abi::embedded::section_len(SECTION_PARTS)] =
    ferry_plugin_abi::embedded::section_bytes(SECTION_PARTS);

extern "C" fn manifest() -> RString {
    // Referenced, so that no linker drops the section.
    std::hint::black_box(&MANIFEST_SECTION);
    format!("{MANIFEST}abi_version = \"{ABI_VERSION}\"\nmodel_version = \"2.0\"\n").into()
}

extern "C" fn set_logger(_logger: HostLogger) {}

extern "C" fn open_source(_req: OpenRequest) -> RResult<SourceBox, PluginError> {
    RResult::ROk(FfiSource_TO::from_value(OldSource { done: false }, TD_Opaque))
}

extern "C" fn open_sink(_req: OpenRequest) -> RResult<SinkBox, PluginError> {
    RResult::RErr(PluginError::new(ErrorKind::Unsupported, "this plugin is not a sink"))
}

/// The exported root module.
#[export_root_module]
pub fn get_library() -> PluginModuleRef {
    PluginModule { manifest, set_logger, open_source, open_sink }.leak_into_prefix()
}

struct OldSource {
    done: bool,
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Model 2.0's student columns (a subset is enough: optional columns may be
/// left out, as may every column a newer minor added).
fn students() -> Result<RecordBatch, String> {
    let n = 3;
    let code_fields = Fields::from(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("original", DataType::Utf8, false),
    ]);
    let grade =
        StructArray::new(code_fields.clone(), vec![text(&["09", "10", "KG"]), text(&["9", "10", "K"])], None);
    let list_of = |names: [&str; 3], third: DataType| {
        let fields = Fields::from(vec![
            Field::new(names[0], DataType::Utf8, false),
            Field::new(names[1], DataType::Utf8, false),
            Field::new(names[2], third, names[2] == "assigner"),
        ]);
        let mut b = ListBuilder::new(StructBuilder::from_fields(fields.clone(), 0))
            .with_field(Arc::new(Field::new("item", DataType::Struct(fields), false)));
        for _ in 0..n {
            b.append(true);
        }
        b.finish()
    };
    let alt_ids = list_of(["kind", "value", "assigner"], DataType::Utf8);
    let extensions = list_of(["key", "value", "pii"], DataType::Boolean);
    let mut op = Int8Builder::new();
    for _ in 0..n {
        op.append_value(0);
    }
    let op = DictionaryArray::<Int8Type>::try_new(
        op.finish(),
        Arc::new(StringArray::from(vec!["upsert", "delete"])),
    )
    .map_err(|e| e.to_string())?;
    let mut file = StringBuilder::new();
    for _ in 0..n {
        file.append_value("old-export.txt");
    }
    let columns: Vec<(Field, ArrayRef)> = vec![
        (Field::new("source_system", DataType::Utf8, false), text(&["old", "old", "old"])),
        (Field::new("source_id", DataType::Utf8, false), text(&["S1", "S2", "S3"])),
        (Field::new("student_number", DataType::Utf8, true), text(&["000101", "000102", "000103"])),
        (Field::new("first_name", DataType::Utf8, false), text(&["Ada", "Brontë", "Çelik"])),
        (Field::new("last_name", DataType::Utf8, false), text(&["Lovelace", "Emily", "Deniz"])),
        (
            Field::new("birth_date", DataType::Date32, true),
            Arc::new(Date32Array::from(vec![Some(14_000), None, Some(15_500)])),
        ),
        (Field::new("grade_level", grade.data_type().clone(), true), Arc::new(grade)),
        (Field::new("alt_ids", alt_ids.data_type().clone(), false), Arc::new(alt_ids)),
        (Field::new("extensions", extensions.data_type().clone(), false), Arc::new(extensions)),
        (Field::new("operation", op.data_type().clone(), false), Arc::new(op)),
        (Field::new("source_file", DataType::Utf8, true), Arc::new(file.finish())),
        (Field::new("source_line", DataType::UInt64, true), Arc::new(UInt64Array::from(vec![2, 3, 4]))),
    ];
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())
}

fn export(batch: RecordBatch) -> Result<ArrowBatch, String> {
    let data = StructArray::from(batch).into_data();
    let (array, schema) = arrow_array::ffi::to_ffi(&data).map_err(|e| e.to_string())?;
    // SAFETY: arrow-rs's FFI structs and the ABI's are the same C structs of
    // the Arrow C Data Interface; ownership moves whole.
    unsafe {
        Ok(ArrowBatch {
            schema: std::mem::transmute::<arrow_array::ffi::FFI_ArrowSchema, ArrowSchema>(schema),
            array: std::mem::transmute::<arrow_array::ffi::FFI_ArrowArray, ArrowArray>(array),
        })
    }
}

impl FfiSource for OldSource {
    fn entities(&self) -> RResult<RVec<RString>, PluginError> {
        RResult::ROk(vec![RString::from("students")].into())
    }

    fn next_batch(&mut self, _max_records: u32) -> RResult<ROption<Batch>, PluginError> {
        if std::mem::replace(&mut self.done, true) {
            return RResult::ROk(ROption::RNone);
        }
        match students().and_then(export) {
            Ok(records) => RResult::ROk(ROption::RSome(Batch {
                entity: "students".into(),
                model_major: 2,
                model_minor: 0,
                records,
                diagnostics: ArrowBatch::empty(),
            })),
            Err(e) => RResult::RErr(PluginError::new(ErrorKind::Internal, e)),
        }
    }

    fn close(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
}
