"""Invoice documents: the EN 16931 CII XML (``xml``), the PDF/A-3b with the
XML embedded (``pdf``), the labels of each document language (``labels``)
and the rendering pipeline that stores them (``render``).

Every output is built from ``invoicing.document.Document``, never from the
models, so the XML, the PDF and Amazon's payload agree.
"""
