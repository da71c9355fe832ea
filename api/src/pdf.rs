//! A plain-text PDF (1.4) for the documents the council issues itself (padrón certificates and
//! volantes): A4 pages of Helvetica in WinAnsi encoding, a bold title, wrapped lines. Written by
//! hand because it is a few dozen lines and needs nothing a PDF crate adds (fonts, images,
//! forms); the bytes are deterministic for the same text.

/// The text width of a line, in thousandths of the font size: an A4 page with 2 cm margins at
/// 11 pt holds 481 pt.
const LINE_WIDTH: u32 = 481 * 1000 / 11;
/// Lines per page.
const PAGE_LINES: usize = 52;

/// WinAnsi's code for the characters it holds beyond Latin-1's (0x80-0x9F).
fn win_ansi_extra(c: char) -> Option<u8> {
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => return None,
    })
}

/// The WinAnsi code of a character, if the fonts used can print it.
fn win_ansi(c: char) -> Option<u8> {
    match c as u32 {
        0x20..=0x7e | 0xa0..=0xff => Some(c as u32 as u8),
        _ => win_ansi_extra(c),
    }
}

/// Whether every character of `text` can be printed (a name with letters beyond WinAnsi — ș, ł,
/// ğ… — cannot yet, and a document is never issued with a name misspelt).
pub fn representable(text: &str) -> bool {
    text.chars().all(|c| win_ansi(c).is_some())
}

/// The text in WinAnsi, the PDF string delimiters escaped (a character it cannot print becomes
/// `?`: callers check [`representable`] for what must be exact).
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            c => out.push(win_ansi(c).unwrap_or(b'?')),
        }
    }
    out
}

/// A character's width in Helvetica, in thousandths of the font size: the font's own widths for
/// the narrow and the wide ones, and an upper bound of the rest, so that a line never runs off
/// the page.
fn width(c: char) -> u32 {
    match c {
        ' ' | '!' | ',' | '.' | ':' | ';' | '\'' | 'i' | 'j' | 'l' | 'I' | '|' | '/' | 'f'
        | 't' | '(' | ')' | '[' | ']' | '-' => 333,
        'r' => 333,
        'm' | 'M' | 'W' | 'w' | '%' | '@' | 'Œ' | 'œ' | '—' | '‰' | 'Æ' | 'æ' => 944,
        c if c.is_ascii_digit() => 556,
        c if c.is_uppercase() => 778,
        _ => 611,
    }
}

fn text_width(text: &str) -> u32 {
    text.chars().map(width).sum()
}

/// Splits a paragraph into lines that fit the page width, at spaces where it can.
fn wrap(paragraph: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in paragraph.split_whitespace() {
        let mut word = word.to_owned();
        // A word longer than a line is cut.
        while text_width(&word) > LINE_WIDTH {
            let mut head = String::new();
            for c in word.chars() {
                if text_width(&head) + width(c) > LINE_WIDTH {
                    break;
                }
                head.push(c);
            }
            word = word.chars().skip(head.chars().count()).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        let space = if line.is_empty() { 0 } else { width(' ') };
        if !line.is_empty() && text_width(&line) + space + text_width(&word) > LINE_WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    lines.push(line);
    lines
}

/// A PDF with `title` in bold and `paragraphs` below it (an empty paragraph is a blank line).
pub fn text_document(title: &str, paragraphs: &[String]) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        lines.extend(wrap(paragraph));
    }
    let pages: Vec<&[String]> = if lines.is_empty() {
        vec![&[][..]]
    } else {
        lines.chunks(PAGE_LINES).collect()
    };
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1 catalog, 2 pages, 3 and 4 fonts, then a page and its contents for each page.
    let first_page = 5;
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (index, page) in pages.iter().enumerate() {
        let mut content: Vec<u8> = Vec::new();
        content.extend_from_slice(b"BT\n");
        if index == 0 {
            content.extend_from_slice(b"/F2 15 Tf\n57 785 Td\n(");
            content.extend_from_slice(&encode(title));
            content.extend_from_slice(b") Tj\n/F1 11 Tf\n14 TL\nT* T*\n");
        } else {
            content.extend_from_slice(b"/F1 11 Tf\n14 TL\n57 785 Td\n");
        }
        for line in page.iter() {
            content.push(b'(');
            content.extend_from_slice(&encode(line));
            content.extend_from_slice(b") Tj T*\n");
        }
        content.extend_from_slice(b"ET\n");
        let contents_id = first_page + 2 * index + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {contents_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_a_pdf_whose_cross_reference_points_at_its_objects() {
        let paragraphs: Vec<String> = (0..120)
            .map(|i| format!("Línea {i} del certificado (con paréntesis) y una ñ — y un €"))
            .collect();
        let pdf = text_document("CERTIFICADO DE EMPADRONAMIENTO", &paragraphs);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        // Three pages of 52 lines for 120 lines.
        assert!(text.contains("/Count 3"), "{text}");
        // Every offset in the table is where its object starts.
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = &pdf[xref_at..];
        let table = String::from_utf8_lossy(table);
        for (n, line) in table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .enumerate()
        {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", n + 1).as_bytes()),
                "object {} at {offset}",
                n + 1
            );
        }
        // Latin-1 letters kept, parentheses escaped, the rest replaced.
        assert!(pdf.windows(2).any(|w| w == [b'L', 0xed]));
        assert!(text.contains("\\(con par"));
        // An em dash and the euro sign are WinAnsi's.
        assert!(pdf.windows(3).any(|w| w == [b' ', 0x97, b' ']));
        assert!(pdf.windows(1).any(|w| w == [0x80]));
    }

    #[test]
    fn long_paragraphs_are_wrapped_to_the_page_width_and_names_checked() {
        let lines = wrap(&"palabra ".repeat(40));
        assert!(lines.iter().all(|l| text_width(l) <= LINE_WIDTH));
        assert!(lines.len() > 3);
        // Capitals are wider: fewer to a line.
        let capitals = wrap(&"MMMMMMMMMM ".repeat(20));
        assert!(capitals.iter().all(|l| text_width(l) <= LINE_WIDTH));
        assert!(capitals[0].chars().count() < 60, "{}", capitals[0]);
        assert!(wrap(&"x".repeat(200)).len() >= 3);
        assert!(representable("Begoña Muñoz Pérez"));
        assert!(!representable("Šimůnek"));
        assert!(representable("Œuvre — Žižek, 5 €"));
        assert!(!representable("Ștefan Łukasz Yılmaz"));
        assert_eq!(encode("Žižek €"), b"\x8ei\x9eek \x80".to_vec());
    }
}
