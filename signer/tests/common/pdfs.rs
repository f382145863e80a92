//! PDFs to sign: made with lopdf (classic cross-reference table, or object streams with a
//! cross-reference stream) and with reportlab, another writer (also encrypted).

use super::venv_python;
use lopdf::content::{Content, Operation};
use lopdf::xref::XrefType;
use lopdf::{dictionary, Document, Object, Stream};
use std::path::Path;

/// A one-page "Hello" PDF written by lopdf; `modern` selects object + cross-reference streams.
pub fn lopdf_pdf(modern: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 24.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal("Hello, signer")]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    if modern {
        doc.save_modern(&mut out).unwrap();
    } else {
        doc.reference_table.cross_reference_type = XrefType::CrossReferenceTable;
        doc.save_to(&mut out).unwrap();
    }
    out
}

/// A two-page PDF written by reportlab; `encrypt` is `None` or `(user, owner)` passwords.
pub fn reportlab_pdf(dir: &Path, encrypt: Option<(&str, &str)>) -> Vec<u8> {
    let path = dir.join("reportlab.pdf");
    let encrypt = match encrypt {
        None => "None".to_owned(),
        Some((user, owner)) => {
            format!("StandardEncryption({user:?}, ownerPassword={owner:?}, strength=128)")
        }
    };
    let script = format!(
        "import sys\n\
         from reportlab.pdfgen import canvas\n\
         from reportlab.lib.pdfencrypt import StandardEncryption\n\
         c = canvas.Canvas(sys.argv[1], encrypt={encrypt})\n\
         c.drawString(72, 720, 'Page one, made by reportlab')\n\
         c.showPage()\n\
         c.drawString(72, 720, 'Page two')\n\
         c.showPage()\n\
         c.save()\n"
    );
    venv_python(&script, &[&path]);
    std::fs::read(path).unwrap()
}
