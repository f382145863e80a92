//! The signature field (ISO 32000-1 §12.7.4.5, ETSI EN 319 142-1): an invisible widget on
//! the first page, merged with a `/FT /Sig` field listed in the AcroForm, whose `/V` is the
//! signature dictionary. `/SigFlags 3` (SignaturesExist, AppendOnly) tells readers to keep
//! later changes incremental. Returns the objects the update must (re)write.

use super::original::Original;
use super::PadesError;
use lopdf::{dictionary, Dictionary, Object, ObjectId, StringFormat};
use std::collections::BTreeMap;

/// Annotation flags Print (4) and Locked (128), §12.5.3.
const WIDGET_FLAGS: i64 = 132;

/// The new field-widget `field_id` pointing at `sig_id`, and the catalog, AcroForm, page and
/// array objects changed to reach it, by object id.
pub(super) fn add_signature_field(
    original: &Original,
    field_id: ObjectId,
    sig_id: ObjectId,
) -> Result<BTreeMap<ObjectId, Object>, PadesError> {
    let mut changed = BTreeMap::new();
    let mut catalog = dictionary_at(original, original.root)?;
    let existing_acro_form = catalog.get(b"AcroForm").ok().cloned();
    let (mut acro_form, acro_form_id) = match existing_acro_form {
        Some(Object::Reference(id)) => (dictionary_at(original, id)?, Some(id)),
        Some(Object::Dictionary(dict)) => (dict, None),
        None => (Dictionary::new(), None),
        Some(_) => return Err(PadesError::Malformed("/AcroForm is not a dictionary")),
    };
    let name = free_field_name(original, acro_form.get(b"Fields").ok())?;
    append_to_array(original, &mut acro_form, b"Fields", field_id, &mut changed)?;
    acro_form.set("SigFlags", 3);
    match acro_form_id {
        Some(id) => {
            changed.insert(id, Object::Dictionary(acro_form));
        }
        None => {
            catalog.set("AcroForm", acro_form);
            changed.insert(original.root, Object::Dictionary(catalog));
        }
    }
    let mut page = dictionary_at(original, original.first_page)?;
    append_to_array(original, &mut page, b"Annots", field_id, &mut changed)?;
    changed.insert(original.first_page, Object::Dictionary(page));
    let field = dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::String(name.into_bytes(), StringFormat::Literal),
        "V" => sig_id,
        "F" => WIDGET_FLAGS,
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        "P" => original.first_page,
    };
    changed.insert(field_id, Object::Dictionary(field));
    Ok(changed)
}

fn dictionary_at(original: &Original, id: ObjectId) -> Result<Dictionary, PadesError> {
    original
        .doc
        .get_dictionary(id)
        .cloned()
        .map_err(|_| PadesError::Malformed("a catalog, form or page is not a dictionary"))
}

/// Adds `item` to the array at `dict[key]`, which may be direct, indirect or absent.
fn append_to_array(
    original: &Original,
    dict: &mut Dictionary,
    key: &[u8],
    item: ObjectId,
    changed: &mut BTreeMap<ObjectId, Object>,
) -> Result<(), PadesError> {
    match dict.get(key).ok().cloned() {
        Some(Object::Reference(id)) => {
            let mut items = original
                .doc
                .get_object(id)
                .and_then(|o| o.as_array().cloned())
                .map_err(|_| PadesError::Malformed("/Fields or /Annots is not an array"))?;
            items.push(item.into());
            changed.insert(id, Object::Array(items));
        }
        Some(Object::Array(mut items)) => {
            items.push(item.into());
            dict.set(key.to_vec(), items);
        }
        None | Some(Object::Null) => dict.set(key.to_vec(), vec![Object::from(item)]),
        Some(_) => return Err(PadesError::Malformed("/Fields or /Annots is not an array")),
    }
    Ok(())
}

/// `SignatureN` with the smallest N no top-level field already uses (§12.7.3.2: names are
/// unique among siblings).
fn free_field_name(original: &Original, fields: Option<&Object>) -> Result<String, PadesError> {
    let doc = &original.doc;
    let fields = match fields {
        None => Vec::new(),
        Some(fields) => doc
            .dereference(fields)
            .and_then(|(_, o)| o.as_array().cloned())
            .map_err(|_| PadesError::Malformed("/Fields is not an array"))?,
    };
    let taken: Vec<Vec<u8>> = fields
        .iter()
        .filter_map(|field| {
            let (_, field) = doc.dereference(field).ok()?;
            Some(
                field
                    .as_dict()
                    .ok()?
                    .get(b"T")
                    .ok()?
                    .as_str()
                    .ok()?
                    .to_vec(),
            )
        })
        .collect();
    (1..=taken.len() + 1)
        .map(|n| format!("Signature{n}"))
        .find(|name| !taken.iter().any(|t| t == name.as_bytes()))
        .ok_or(PadesError::Malformed("no free field name"))
}
